"""Reads a binary OpenPGP key on stdin, swaps one letter of its first user ID and writes
the result ASCII-armoured on stdout: the packet structure stays valid, the self-signature
over the user ID no longer verifies."""

import base64
import sys

CRC24_INIT = 0xB704CE
CRC24_POLY = 0x1864CFB


def crc24(data: bytes) -> int:
    crc = CRC24_INIT
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= CRC24_POLY
    return crc & 0xFFFFFF


data = bytearray(sys.stdin.buffer.read())
at = data.find(b"Test <abuse@")
assert at >= 0, "user ID not found"
data[at : at + 4] = b"Evil"
body = base64.b64encode(bytes(data)).decode()
lines = [body[i : i + 64] for i in range(0, len(body), 64)]
checksum = base64.b64encode(crc24(bytes(data)).to_bytes(3, "big")).decode()
print("-----BEGIN PGP PUBLIC KEY BLOCK-----")
print()
print("\n".join(lines))
print("=" + checksum)
print("-----END PGP PUBLIC KEY BLOCK-----")
