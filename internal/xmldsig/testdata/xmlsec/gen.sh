#!/bin/sh
# Regenerates the xmlsec1-signed fixtures (Debian: apt-get install xmlsec1).
# Fresh keys each time; only the certificates are kept.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/rsa.key" -out rsa.crt -days 36500 -subj "/CN=xmlsec fixture RSA" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/p256.key" -out p256.crt -days 36500 -subj "/CN=xmlsec fixture P-256" 2>/dev/null

# template.xml has the placeholders @SIGALG@ and @PREFIXES@.
sign() { # name key sigalg prefixlist
	sed -e "s|@SIGALG@|$3|" -e "s|@PREFIXES@|$4|" template.xml >"$tmp/in.xml"
	xmlsec1 --sign --privkey-pem "$2" --id-attr:ID urn:oasis:names:tc:SAML:2.0:assertion:Assertion \
		--output "$1" "$tmp/in.xml"
}
sign rsa-sha256.xml "$tmp/rsa.key" http://www.w3.org/2001/04/xmldsig-more#rsa-sha256 "#default xs"
sign ecdsa-p256-sha256.xml "$tmp/p256.key" http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256 "xs"
