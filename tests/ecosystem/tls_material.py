"""Test TLS material made on the host: a CA, certificates signed by it (openssl), and bcrypt
password hashes from libxcrypt (the library cowwatchd verifies basic-auth passwords with).
Used by the secured-scraping test and the fleethost tier."""
import ctypes

from common import fail, run, skip


def openssl(*args):
    r = run(["openssl", *args])
    if r.returncode != 0:
        fail(f"openssl {' '.join(args)}: {r.stderr}")


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
            "-keyout", f"{d}/{name}.key", "-out", f"{d}/{name}.crt")


def make_cert(d, name, ca, server):
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
            "-keyout", f"{d}/{name}.key", "-out", f"{d}/{name}.csr")
    ext = f"{d}/{name}.ext"
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n" if server
                else "extendedKeyUsage=clientAuth\n")
    openssl("x509", "-req", "-in", f"{d}/{name}.csr", "-CA", f"{d}/{ca}.crt", "-CAkey", f"{d}/{ca}.key",
            "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", f"{d}/{name}.crt")


def bcrypt(password):
    """A $2b$ hash from libxcrypt (the library the daemon verifies with)."""
    try:
        lib = ctypes.CDLL("libcrypt.so.1")
    except OSError as e:
        skip(f"libcrypt.so.1 not loadable: {e}")
    lib.crypt_gensalt.restype = ctypes.c_char_p
    lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
    lib.crypt.restype = ctypes.c_char_p
    lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    salt = lib.crypt_gensalt(b"$2b$", 10, None, 0)
    out = lib.crypt(password.encode(), salt)
    if not out or not out.startswith(b"$2b$"):
        skip("libcrypt cannot make bcrypt hashes here")
    return out.decode()
