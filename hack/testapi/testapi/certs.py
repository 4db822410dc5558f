"""Per-run PKI for the test API server, generated with the openssl CLI (kind-style RSA keys).

Files written into the run directory:
  ca.crt / ca.key            cluster CA (signs the server and client certificates)
  server.crt / server.key    serving certificate for 127.0.0.1 and localhost
  client.crt / client.key    client certificate CN=kubernetes-admin, O=system:masters; PKCS#1 key like kind
  other-ca.crt / other-ca.key  an unrelated CA, for "wrong CA" tests
"""
import os
import subprocess


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _ca(directory, name, subject):
    _openssl("genrsa", "-out", f"{name}.key", "2048", cwd=directory)
    _openssl("req", "-x509", "-new", "-key", f"{name}.key", "-subj", subject, "-days", "2",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
             "-out", f"{name}.crt", cwd=directory)


def _leaf(directory, name, subject, extensions, traditional_key=False):
    genrsa = ["genrsa", "-out", f"{name}.key"]
    if traditional_key:
        genrsa.append("-traditional")
    _openssl(*genrsa, "2048", cwd=directory)
    _openssl("req", "-new", "-key", f"{name}.key", "-subj", subject, "-out", f"{name}.csr", cwd=directory)
    with open(os.path.join(directory, f"{name}.ext"), "w") as f:
        f.write(extensions)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.crt", cwd=directory)


def ensure(directory):
    """Creates the PKI in `directory` unless it is already there (a restarted server keeps its certificates)."""
    if os.path.exists(os.path.join(directory, "client.crt")):
        return
    os.makedirs(directory, exist_ok=True)
    _ca(directory, "ca", "/CN=kubernetes")
    _ca(directory, "other-ca", "/CN=someone-else")
    _leaf(directory, "server", "/CN=kube-apiserver",
          "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
          "keyUsage=critical,digitalSignature,keyEncipherment\n")
    _leaf(directory, "client", "/O=system:masters/CN=kubernetes-admin",
          "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n",
          traditional_key=True)
