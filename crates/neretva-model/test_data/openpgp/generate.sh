#!/usr/bin/env bash
# Regenerates the OpenPGP test keys in this folder with GnuPG (2.2 or later).
# The keys are throw-away test data: their secret halves are discarded with the
# temporary home directories, except for secret-key.asc, which is a negative test.
# Fingerprints as gpg reports them are written to fingerprints.txt; the tests
# compare against that file, so regenerate both together.
set -euo pipefail
cd "$(dirname "$0")"

GPG=(gpg --batch --quiet --pinentry-mode loopback --passphrase '')

fingerprint() { # homedir
    gpg --homedir "$1" --with-colons --list-keys | awk -F: '/^fpr:/ { print $10; exit }'
}

: > fingerprints.txt

# 1. Ed25519 primary for signing and certifying, with a Curve25519 encryption subkey.
home=$(mktemp -d)
"${GPG[@]}" --homedir "$home" --quick-gen-key 'Test <abuse@example.ba>' ed25519 sign,cert never
fpr=$(fingerprint "$home")
"${GPG[@]}" --homedir "$home" --quick-add-key "$fpr" cv25519 encr never
"${GPG[@]}" --homedir "$home" --quick-add-uid "$fpr" 'Test CSIRT <csirt@example.ba>'
"${GPG[@]}" --homedir "$home" --armor --export "$fpr" > ed25519-cv25519.asc
echo "ed25519-cv25519.asc $fpr" >> fingerprints.txt
# Its secret key, which must be rejected.
"${GPG[@]}" --homedir "$home" --armor --export-secret-keys "$fpr" > secret-key.asc
# A copy whose user ID was altered after signing, so its self-signature does not verify.
gpg --homedir "$home" --export "$fpr" | python3 tamper.py > bad-self-signature.asc
# A third party certifies the user IDs: that signature cannot be checked and is ignored.
"${GPG[@]}" --homedir "$home" --quick-gen-key 'Signer <signer@example.ba>' ed25519 sign,cert never
signer=$(gpg --homedir "$home" --with-colons --list-keys 'signer@example.ba' | awk -F: '/^fpr:/ { print $10; exit }')
"${GPG[@]}" --homedir "$home" --yes --local-user "$signer" --quick-sign-key "$fpr"
"${GPG[@]}" --homedir "$home" --armor --export "$fpr" > third-party-certified.asc
echo "third-party-certified.asc $fpr" >> fingerprints.txt
# Two keys in one block.
"${GPG[@]}" --homedir "$home" --armor --export "$fpr" "$signer" > two-keys.asc
rm -rf "$home"

# 2. RSA-3072 for signing and certifying, with an RSA-3072 encryption subkey.
home=$(mktemp -d)
"${GPG[@]}" --homedir "$home" --quick-gen-key 'RSA Test <noc@example.ba>' rsa3072 sign,cert never
fpr=$(fingerprint "$home")
"${GPG[@]}" --homedir "$home" --quick-add-key "$fpr" rsa3072 encr never
"${GPG[@]}" --homedir "$home" --armor --export "$fpr" > rsa3072.asc
echo "rsa3072.asc $fpr" >> fingerprints.txt
rm -rf "$home"

# 3. A key made on 2020-01-01 that expired 365 days later, on 2020-12-31.
home=$(mktemp -d)
"${GPG[@]}" --homedir "$home" --faked-system-time 20200101T120000 \
    --quick-gen-key 'Expired <old@example.ba>' ed25519 sign,cert 1y
fpr=$(fingerprint "$home")
"${GPG[@]}" --homedir "$home" --faked-system-time 20200101T120000 \
    --quick-add-key "$fpr" cv25519 encr 1y
"${GPG[@]}" --homedir "$home" --armor --export "$fpr" > expired.asc
echo "expired.asc $fpr" >> fingerprints.txt
rm -rf "$home"

# 4. A revoked key: gpg leaves a revocation certificate in openpgp-revocs.d.
home=$(mktemp -d)
"${GPG[@]}" --homedir "$home" --quick-gen-key 'Revoked <gone@example.ba>' ed25519 sign,cert never
fpr=$(fingerprint "$home")
sed 's/^:-----BEGIN/-----BEGIN/' "$home/openpgp-revocs.d/$fpr.rev" > "$home/revocation.asc"
"${GPG[@]}" --homedir "$home" --import "$home/revocation.asc"
"${GPG[@]}" --homedir "$home" --armor --export "$fpr" > revoked.asc
echo "revoked.asc $fpr" >> fingerprints.txt
rm -rf "$home"
