# SPDX-License-Identifier: Apache-2.0
# The Debian package (CPack): `cpack -G DEB` in a build tree (deploy/packaging/build-deb.sh).
#   /usr/bin/edgegw, /usr/lib/edgegw/plugins/*.so, /usr/share/edgegw/config/*.yaml (examples),
#   /etc/edgegw/gateway.yaml (conffile: a safe default with no sources and no devices),
#   /lib/systemd/system/edgegw.service, the docs; the system user `edgegw` comes from postinst.
# Only the `edgegw` install component (what `cmake --install` installs too) and `edgegw_deb`
# go in: the test tools (cloud emulator) stay out. `edgegw_deb` holds the files with absolute
# paths (/etc, /lib/systemd) and Debian's docs; EXCLUDE_FROM_ALL keeps them out of a plain
# `cmake --install --prefix P`, which must not write to /etc.
set(EDGEGW_PACKAGING_DIR ${PROJECT_SOURCE_DIR}/deploy/packaging)
set(EDGEGW_DEB_RELEASE 1)

install(FILES ${EDGEGW_PACKAGING_DIR}/gateway.yaml DESTINATION /etc/edgegw
        COMPONENT edgegw_deb EXCLUDE_FROM_ALL)
# Debian 12 keeps units in /lib/systemd/system (usr-merged: the same directory as /usr/lib/...).
install(FILES ${PROJECT_SOURCE_DIR}/deploy/systemd/edgegw.service DESTINATION /lib/systemd/system
        COMPONENT edgegw_deb EXCLUDE_FROM_ALL)
install(FILES ${EDGEGW_PACKAGING_DIR}/copyright ${PROJECT_SOURCE_DIR}/deploy/README.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT edgegw_deb EXCLUDE_FROM_ALL)
install(FILES ${EDGEGW_PACKAGING_DIR}/lintian-overrides DESTINATION share/lintian/overrides
        RENAME edgegw COMPONENT edgegw_deb EXCLUDE_FROM_ALL)

# changelog.Debian.gz: the version comes from project(); gzip -9n (no name, no time stamp).
configure_file(${EDGEGW_PACKAGING_DIR}/changelog.in ${CMAKE_BINARY_DIR}/packaging/changelog.Debian
               @ONLY)
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/packaging/changelog.Debian.gz
                   COMMAND gzip -9nkf ${CMAKE_BINARY_DIR}/packaging/changelog.Debian
                   DEPENDS ${CMAKE_BINARY_DIR}/packaging/changelog.Debian)
add_custom_target(edgegw_deb_changelog ALL DEPENDS ${CMAKE_BINARY_DIR}/packaging/changelog.Debian.gz)
install(FILES ${CMAKE_BINARY_DIR}/packaging/changelog.Debian.gz DESTINATION ${CMAKE_INSTALL_DOCDIR}
        COMPONENT edgegw_deb EXCLUDE_FROM_ALL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME edgegw)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "edgegw maintainers <maintainers@users.noreply.r-seed-c99e5f92.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "edge gateway buffering device readings for an IoT cloud")
set(CPACK_PACKAGE_DESCRIPTION
    "edgegw ingests readings from local devices (MQTT, serial lines, a local HTTP\n\
Device API), maps each device to its cloud device and token, buffers every\n\
accepted reading durably in RocksDB before acknowledging it, and forwards\n\
batches to a TagoIO-style Device API with retry, backoff and a dead-letter\n\
store. Prometheus metrics, health endpoints, systemd notify and watchdog.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_COMPONENTS_ALL edgegw edgegw_deb)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${EDGEGW_DEB_RELEASE})
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# procps: /bin/kill for the unit's ExecReload= (not in a minimal Debian).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, init-system-helpers (>= 1.52), procps")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${EDGEGW_PACKAGING_DIR}/conffiles ${EDGEGW_PACKAGING_DIR}/postinst
    ${EDGEGW_PACKAGING_DIR}/prerm ${EDGEGW_PACKAGING_DIR}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
