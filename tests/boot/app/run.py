"""A small app with the reference app's contract (run:app; MYSQL_*, DATABASE_PASSWORD, SECRET_KEY,
API_KEY from the environment, and no TLS setting; creates its own table when it starts), for the boot test.

It fails on the database as the reference app does (docs/monitoring.md): PyMySQL installed as
MySQLdb; a query's error uncaught (Flask logs it); on /register an OperationalError of the query
caught and answered with a page, unlogged; and at start a failure printed, not raised, as the
reference's table creation does."""

import hashlib
import os

import pymysql

pymysql.install_as_MySQLdb()  # as the reference app does: MySQLdb below is PyMySQL

import MySQLdb  # noqa: E402
from flask import Flask, jsonify  # noqa: E402

app = Flask(__name__)


def connect():
    return MySQLdb.connect(
        host=os.environ["MYSQL_HOST"], port=int(os.environ.get("MYSQL_PORT", "3306")),
        user=os.environ["MYSQL_USER"], password=os.environ["DATABASE_PASSWORD"],
        database=os.environ["MYSQL_DB"],
    )


def _create_table():
    try:
        db = connect()
    except MySQLdb.Error as error:
        print(error)  # to stdout: the error log only through gunicorn's --capture-output
        return
    try:
        db.cursor().execute(
            "CREATE TABLE IF NOT EXISTS visits (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(100))")
        db.commit()
    finally:
        db.close()


_create_table()


@app.route("/")
def home():
    return "ok\n"


@app.route("/visit/<note>", methods=["POST"])
def visit(note):
    db = connect()
    try:
        cursor = db.cursor()
        cursor.execute("INSERT INTO visits (note) VALUES (%s)", (note,))
        db.commit()
        cursor.execute("SELECT note FROM visits WHERE id = %s", (cursor.lastrowid,))
        (stored,) = cursor.fetchone()
    finally:
        db.close()
    return jsonify(stored=stored)


@app.route("/tls")
def tls():
    """The cipher of the app's own database session: empty without TLS."""
    db = connect()
    try:
        cursor = db.cursor()
        cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        (name, cipher) = cursor.fetchone()
    finally:
        db.close()
    return jsonify({name: cipher})


@app.route("/register/<note>", methods=["POST"])
def register(note):
    db = connect()
    try:
        cursor = db.cursor()
        try:
            cursor.execute("INSERT INTO visits (note) VALUES (%s)", (note,))
        except MySQLdb.OperationalError:
            return "<h1><strong>Connection Time out</strong></h1>"
        db.commit()
    finally:
        db.close()
    return jsonify(stored=note)


@app.route("/digest")
def digest():
    """sha256 of what the app received, so the test can compare without the values leaving."""
    names = ("MYSQL_USER", "DATABASE_PASSWORD", "SECRET_KEY", "API_KEY", "MYSQL_HOST", "MYSQL_DB")
    return jsonify({name: hashlib.sha256(os.environ.get(name, "<unset>").encode()).hexdigest()
                    for name in names})


@app.route("/efs/<name>", methods=["POST"])
def efs(name):
    path = os.path.join("/efs", name)
    with open(path, "w") as handle:
        handle.write(name)
    status = os.stat(path)
    return jsonify(uid=status.st_uid, gid=status.st_gid, text=open(path).read())
