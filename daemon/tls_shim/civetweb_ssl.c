/*
 * A libssl.so for civetweb. Debian 12's civetweb (1.15) loads OpenSSL at run time by the names
 * libssl.so and libcrypto.so and looks up SSL_get_peer_certificate, which OpenSSL 3 only has as a
 * macro for SSL_get1_peer_certificate: with the system's libssl.so, civetweb's TLS worker calls a
 * null pointer on the first connection. cowwatchd finds this library first (its RPATH): it depends
 * on the real libssl.so.3, so every other symbol resolves there, and adds the missing one.
 */
#include <openssl/ssl.h>

#undef SSL_get_peer_certificate
X509 *SSL_get_peer_certificate(const SSL *ssl);

X509 *SSL_get_peer_certificate(const SSL *ssl) { return SSL_get1_peer_certificate(ssl); }
