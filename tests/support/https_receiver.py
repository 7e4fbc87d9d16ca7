"""An HTTPS webhook receiver whose certificate only a private CA vouches for.

Stands for a receiver behind a company CA or a TLS-inspecting proxy. Writes
ca.pem into DIR (the CA a client must trust), serves HTTPS on a free port of
127.0.0.1, prints the port, and appends each POST body to DIR/received.jsonl.
Key and certificates come from `cryptography` (installed with moto).
"""
import datetime
import http.server
import ipaddress
import os
import ssl
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

directory = sys.argv[1]
now = datetime.datetime.now(datetime.timezone.utc)


def certificate(subject, issuer, public_key, signing_key, ca, extensions=()):
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(signing_key, hashes.SHA256())


ca_key = ec.generate_private_key(ec.SECP256R1())
ca = certificate(
    "driftd test private CA",
    "driftd test private CA",
    ca_key.public_key(),
    ca_key,
    True,
    [x509.KeyUsage(False, False, False, False, False, True, True, False, False)],
)
server_key = ec.generate_private_key(ec.SECP256R1())
server = certificate(
    "127.0.0.1",
    "driftd test private CA",
    server_key.public_key(),
    ca_key,
    False,
    [x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])],
)
pem = serialization.Encoding.PEM
with open(os.path.join(directory, "ca.pem"), "wb") as f:
    f.write(ca.public_bytes(pem))
with open(os.path.join(directory, "server.pem"), "wb") as f:
    f.write(server.public_bytes(pem))
with open(os.path.join(directory, "server.key"), "wb") as f:
    f.write(
        server_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(os.path.join(directory, "received.jsonl"), "ab") as f:
            f.write(body + b"\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


httpd = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(
    os.path.join(directory, "server.pem"), os.path.join(directory, "server.key")
)
httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
print(httpd.server_address[1], flush=True)
httpd.serve_forever()
