"""Test PKI made at test time with python3-cryptography: a CA, server and
client certificates, and the store files ZooKeeper's ssl.* keys name
(PEM: PKCS#8 key + certificate chain in one file; PKCS12 with a password).

    ca = Authority("Test CA")
    srv = ca.issue("CN=localhost", server=True)          # SAN DNS:localhost, IP:127.0.0.1
    alice = ca.issue("CN=alice,OU=eng,O=Example")        # client certificate
    srv.write_pem(path) / srv.write_p12(path, "pw") / ca.write_trust_pem(path)
"""

import datetime
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization  # noqa: F401 (serialization is used by tests)
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_OIDS = {
    "CN": NameOID.COMMON_NAME, "C": NameOID.COUNTRY_NAME, "L": NameOID.LOCALITY_NAME,
    "ST": NameOID.STATE_OR_PROVINCE_NAME, "O": NameOID.ORGANIZATION_NAME,
    "OU": NameOID.ORGANIZATIONAL_UNIT_NAME, "DC": NameOID.DOMAIN_COMPONENT,
    "UID": NameOID.USER_ID, "EMAIL": NameOID.EMAIL_ADDRESS, "STREET": NameOID.STREET_ADDRESS,
    "SERIALNUMBER": NameOID.SERIAL_NUMBER, "T": NameOID.TITLE,
}


def name_of(rdns):
    """rdns: a list of RDNs in DER order (most significant first), each a
    list of (keyword, value) or a single (keyword, value); or a simple
    "K=v,K=v" string in RFC 2253 order (least significant first)."""
    if isinstance(rdns, str):
        parts = [p.split("=", 1) for p in rdns.split(",")]
        rdns = [(k.strip(), v) for k, v in reversed(parts)]
    out = []
    for rdn in rdns:
        avas = rdn if isinstance(rdn, list) else [rdn]
        out.append(x509.RelativeDistinguishedName([x509.NameAttribute(_OIDS[k], v) for k, v in avas]))
    return x509.Name(out)


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _now():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class Issued:
    def __init__(self, key, cert, chain):
        self.key, self.cert, self.chain = key, cert, chain

    def key_pem(self, password=None):
        enc = (serialization.BestAvailableEncryption(password.encode()) if password
               else serialization.NoEncryption())
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)

    def cert_pem(self):
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in [self.cert] + self.chain)

    def write_pem(self, path, password=None):
        """ZooKeeper's PEM key store: the key and the chain in one file."""
        with open(path, "wb") as f:
            f.write(self.key_pem(password) + self.cert_pem())
        return path

    def write_key_and_cert(self, key_path, cert_path):
        """Separate files, as Python's ssl (kazoo) takes them."""
        with open(key_path, "wb") as f:
            f.write(self.key_pem())
        with open(cert_path, "wb") as f:
            f.write(self.cert_pem())
        return key_path, cert_path

    def write_p12(self, path, password):
        data = pkcs12.serialize_key_and_certificates(
            b"key", self.key, self.cert, self.chain or None,
            serialization.BestAvailableEncryption(password.encode()))
        with open(path, "wb") as f:
            f.write(data)
        return path


class Authority:
    def __init__(self, cn):
        self.key = _key()
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        now = _now()
        self.cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - datetime.timedelta(days=1))
                     .not_valid_after(now + datetime.timedelta(days=30))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .sign(self.key, hashes.SHA256()))

    def issue(self, subject, server=False, days_valid=30, expired=False):
        key = _key()
        now = _now()
        if expired:
            start, end = now - datetime.timedelta(days=10), now - datetime.timedelta(days=1)
        else:
            start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=days_valid)
        b = (x509.CertificateBuilder().subject_name(name_of(subject)).issuer_name(self.cert.subject)
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(start).not_valid_after(end)
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
             .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                   ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False))
        if server:
            b = b.add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        return Issued(key, b.sign(self.key, hashes.SHA256()), [])

    def write_trust_pem(self, path):
        with open(path, "wb") as f:
            f.write(self.cert.public_bytes(serialization.Encoding.PEM))
        return path

    def write_trust_p12(self, path, password):
        data = pkcs12.serialize_key_and_certificates(
            None, None, None, [self.cert], serialization.BestAvailableEncryption(password.encode()))
        with open(path, "wb") as f:
            f.write(data)
        return path
