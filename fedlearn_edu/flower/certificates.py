"""TLS for a deployment on one machine: a private certificate authority and a server
certificate for 127.0.0.1 / localhost, made locally with ``cryptography`` (no downloads).

Who gets what (Flower's TLS guide):

- the SuperLink: ``ca.crt``, ``server.pem`` and its private key ``server.key``
  (``--ssl-ca-certfile``, ``--ssl-certfile``, ``--ssl-keyfile``);
- every SuperNode and the ``flwr`` CLI: ``ca.crt`` only (``--root-certificates`` /
  ``root-certificates`` in the Flower configuration), to check that they talk to the
  real SuperLink. Private keys never leave the machine that made them.

These certificates are for a classroom: one-day-old keys on a laptop. A production team
issues them from its organisation's CA and rotates them.
"""
from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Certificates:
    """Paths of the PEM files (see the module docstring for who gets which).

    ``node_certificates`` and ``node_keys`` (one pair per SuperNode, possibly none) secure
    the SuperNode's own Runtime API, through which its ClientApp processes reach it.
    """

    ca_certificate: Path
    server_certificate: Path
    server_key: Path
    node_certificates: tuple = ()
    node_keys: tuple = ()


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "fedlearn_edu classroom"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def _alternative_names(hosts: tuple[str, ...]) -> x509.SubjectAlternativeName:
    names = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


def _issue(ca_key, ca_name: x509.Name, hosts: tuple[str, ...], validity: tuple, *, certificate: Path,
           key_path: Path) -> None:
    """A server certificate for ``hosts`` signed by the CA, and its fresh private key."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(hosts[0])).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(validity[0]).not_valid_after(validity[1])
            .add_extension(_alternative_names(hosts), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    certificate.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key, key_path)


def generate_node_auth_keys(directory: str | Path, n_nodes: int) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """One P-384 key pair per SuperNode for Flower's SuperNode authentication (the SuperLink
    runs with ``--enable-supernode-auth``; ``flwr supernode register`` adds each public key;
    each SuperNode signs its requests with ``--auth-supernode-private-key``).

    Returns
    -------
    private_keys, public_keys : paths of node-<k>-auth (OpenSSH private key) and node-<k>-auth.pub
    """
    if n_nodes < 0:
        raise ValueError(f"n_nodes must be >= 0, got {n_nodes}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    private_paths, public_paths = [], []
    for k in range(n_nodes):
        key = ec.generate_private_key(ec.SECP384R1())
        private, public = directory / f"node-{k}-auth", directory / f"node-{k}-auth.pub"
        private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                              serialization.NoEncryption()))
        private.chmod(0o600)
        public.write_bytes(key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                         serialization.PublicFormat.OpenSSH))
        private_paths.append(private)
        public_paths.append(public)
    return tuple(private_paths), tuple(public_paths)


def generate_certificates(directory: str | Path, hosts: tuple[str, ...] = ("127.0.0.1", "localhost"),
                          n_nodes: int = 0, days: int = 2) -> Certificates:
    """Make a CA, a SuperLink certificate valid for ``hosts`` and ``n_nodes`` SuperNode
    certificates; write them into ``directory``.

    Parameters
    ----------
    directory : where ca.crt, ca.key, server.pem, server.key, node-<k>.pem and node-<k>.key go
    hosts : IP addresses and DNS names the SuperLink is reached at (subject alternative names)
    n_nodes : int >= 0, SuperNode certificates (for their local Runtime API, same hosts)
    days : validity in days

    Returns
    -------
    Certificates with the paths the SuperLink, the SuperNodes and ``flwr`` need
    """
    if not hosts:
        raise ValueError("hosts must name at least one address, e.g. ('127.0.0.1',)")
    if n_nodes < 0:
        raise ValueError(f"n_nodes must be >= 0, got {n_nodes}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    validity = (now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=days))

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("fedlearn_edu local CA")
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(validity[0]).not_valid_after(validity[1])
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                            content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False,
                                            encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
               .sign(ca_key, hashes.SHA256()))
    ca_path = directory / "ca.crt"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    _write_key(ca_key, directory / "ca.key")
    _issue(ca_key, ca_name, hosts, validity, certificate=directory / "server.pem", key_path=directory / "server.key")
    nodes = [(directory / f"node-{k}.pem", directory / f"node-{k}.key") for k in range(n_nodes)]
    for certificate, key in nodes:
        _issue(ca_key, ca_name, hosts, validity, certificate=certificate, key_path=key)
    return Certificates(ca_path, directory / "server.pem", directory / "server.key",
                        tuple(c for c, _ in nodes), tuple(k for _, k in nodes))
