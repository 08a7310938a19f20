# CPack: one Debian package `aviary` with both install components.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME aviary)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "Aviary")
set(CPACK_PACKAGE_CONTACT "Aviary maintainers <aviary@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "ZooKeeper-compatible coordination service")
set(CPACK_PACKAGE_DESCRIPTION
    "Aviary is a coordination service that speaks Apache ZooKeeper's client and
quorum protocols: unmodified ZooKeeper clients use it, and Aviary servers form
ensembles with ZooKeeper 3.8 servers. This package holds aviary-server (run as
the systemd service aviary), aviary-dump (inspection, backup, restore, import
of ZooKeeper data), aviary-bench and aviary, a zkCli-compatible client.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_COMPONENTS_ALL aviary system)
set(CPACK_DEBIAN_PACKAGE_NAME aviary)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies from the binaries (dpkg-shlibdeps), plus what the
# maintainer scripts run.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, init-system-helpers (>= 1.52)")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "python3-kazoo, zookeeper")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# conffiles: generated from the list above; the maintainer scripts as they are.
set(_conffiles ${CMAKE_CURRENT_BINARY_DIR}/conffiles)
list(JOIN AVIARY_CONFFILES "\n" _conffiles_text)
file(WRITE ${_conffiles} "${_conffiles_text}\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${_conffiles} ${AVIARY_PKG_DIR}/debian/postinst ${AVIARY_PKG_DIR}/debian/prerm
    ${AVIARY_PKG_DIR}/debian/postrm)

include(CPack)
