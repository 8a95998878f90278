#!/usr/bin/env bash
# Test certificates, made fresh with openssl: make_certs.sh DIR [NAME...]
#   DIR/ca.pem, ca.key          a cluster CA
#   DIR/NAME.pem, NAME.key      a certificate for each NAME (default: localhost), signed by the CA,
#                               with NAME, localhost and 127.0.0.1 as subject alternative names
#   DIR/other-ca.pem            a CA that signed nothing here (a wrong CA for clients)
#   DIR/expired.pem, .key       signed by the CA, valid only in 2020
#   DIR/rogue.pem, .key         for localhost, signed by other-ca
set -euo pipefail
dir=$1
shift
names=("${@:-localhost}")
mkdir -p "$dir"
cd "$dir"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() {  # ca NAME CN
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -out "$1.pem" -days 30 -subj "/CN=$2" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
ca ca "glint test CA"
ca other-ca "some other CA"
mkdir -p db && : > db/index.txt && echo 01 > db/serial
cat > ca.cnf <<CNF
[ca]
default_ca = test
[test]
database = $dir/db/index.txt
serial = $dir/db/serial
new_certs_dir = $dir/db
default_md = sha256
policy = any
copy_extensions = copy
unique_subject = no
[any]
commonName = supplied
CNF
sign() {  # sign NAME CA [openssl ca date options...]
  local name=$1 signer=$2
  shift 2
  key "$name.key"
  openssl req -new -key "$name.key" -out "$name.csr" -subj "/CN=${name%%.*}" \
    -addext "subjectAltName=DNS:${CN_OF[$name]},DNS:localhost,IP:127.0.0.1" -addext extendedKeyUsage=serverAuth,clientAuth 2>/dev/null
  openssl ca -batch -config ca.cnf -cert "$signer.pem" -keyfile "$signer.key" -in "$name.csr" -out "$name.pem" -notext "$@" 2>/dev/null
  rm -f "$name.csr"
}
declare -A CN_OF=()
for n in "${names[@]}"; do CN_OF[$n]=$n; sign "$n" ca -days 30; done
CN_OF[expired]=localhost
sign expired ca -startdate 20200101000000Z -enddate 20200102000000Z
CN_OF[rogue]=localhost
sign rogue other-ca -days 30
chmod 600 ./*.key
