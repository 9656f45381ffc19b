"""TLS, with the server's certificate verified, for the app's MySQL connections (PyMySQL, mysqlclient).

threetier_db_tls.py in the app's virtualenv, imported when its Python starts by threetier_db_tls.pth
beside it (install_app in app-boot-steps.sh; cfn-init writes it from the launch template's metadata).

The database refuses connections without TLS (require_secure_transport=1 in its parameter group), and
the app is any Flask app with the reference app's contract: it reads MYSQL_HOST and friends from the
environment and no TLS setting at all (the reference app calls flask_mysqldb with PyMySQL installed as
MySQLdb). So a connection the app opens without TLS settings of its own gets these: the CA bundle at
DB_CA_BUNDLE (the RDS bundle of the region, fetched at boot), the certificate chain and the host name
checked. An app that passes its own TLS settings keeps them. PostgreSQL needs nothing here: libpq reads
PGSSLMODE and PGSSLROOTCERT from the environment (app.conf). Without DB_CA_BUNDLE (pip, or anything
run outside the app's units) this does nothing.
"""
import os


def _pymysql(bundle):
    from pymysql import connections

    original = connections.Connection.__init__
    if getattr(original, "threetier_tls", False):
        return

    def __init__(self, *args, **kwargs):
        if not any(kwargs.get(name) for name in ("ssl", "ssl_ca", "ssl_disabled")):
            kwargs.update(ssl_ca=bundle, ssl_verify_cert=True, ssl_verify_identity=True)
        original(self, *args, **kwargs)

    __init__.threetier_tls = True
    connections.Connection.__init__ = __init__


def _mysqlclient(bundle):
    import MySQLdb
    from MySQLdb import connections

    if getattr(MySQLdb, "version_info", (0,)) < (2, 2):
        return  # no ssl_mode with MariaDB's client library before 2.2: left to the app
    original = connections.Connection.__init__
    if getattr(original, "threetier_tls", False):
        return

    def __init__(self, *args, **kwargs):
        if not kwargs.get("ssl") and not kwargs.get("ssl_mode"):
            kwargs.update(ssl={"ca": bundle}, ssl_mode="VERIFY_IDENTITY")
        original(self, *args, **kwargs)

    __init__.threetier_tls = True
    connections.Connection.__init__ = __init__


def install():
    bundle = os.environ.get("DB_CA_BUNDLE")
    if not bundle:
        return
    for driver in (_pymysql, _mysqlclient):
        try:
            driver(bundle)
        except ImportError:  # the app does not use this driver
            pass


install()
