# CPack pre-build script (CPACK_PRE_BUILD_SCRIPTS): the package installs with prefix /usr, so
# install rules with a relative `etc/...` destination (GNUInstallDirs' CMAKE_INSTALL_SYSCONFDIR)
# are staged under usr/etc. Debian keeps configuration in /etc: move it there. Rules that use an
# absolute /etc destination are staged in place and left alone.
foreach(staging IN ITEMS "${CPACK_TEMPORARY_INSTALL_DIRECTORY}" "${CPACK_TEMPORARY_DIRECTORY}")
  if(staging AND IS_DIRECTORY "${staging}/usr/etc")
    file(GLOB entries RELATIVE "${staging}/usr/etc" "${staging}/usr/etc/*")
    file(MAKE_DIRECTORY "${staging}/etc")
    foreach(entry IN LISTS entries)
      if(EXISTS "${staging}/etc/${entry}")
        message(FATAL_ERROR "relocate_etc: both /usr/etc/${entry} and /etc/${entry} are staged")
      endif()
      file(RENAME "${staging}/usr/etc/${entry}" "${staging}/etc/${entry}")
    endforeach()
    file(REMOVE_RECURSE "${staging}/usr/etc")
    message(STATUS "relocate_etc: moved usr/etc/{${entries}} to etc/ in ${staging}")
  endif()
endforeach()
