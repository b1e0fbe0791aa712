"""AES (FIPS-197) with 256-bit keys in CBC mode, in pure Python: the standard
library has no AES, and WeCom's messages are encrypted with AES-256-CBC.
Slow (tens of thousands of blocks a second) and fine for chat messages; not
constant-time, which matters little here: the key never meets attacker-chosen
timing it could leak through (a message is checked by its SHA-1 signature
before it is decrypted)."""


def _times2(value):
    value <<= 1
    return (value ^ 0x11B) if value & 0x100 else value


def _multiply(a, b):
    """a × b in GF(2^8)."""
    product = 0
    while b:
        if b & 1:
            product ^= a
        a = _times2(a)
        b >>= 1
    return product


def _tables():
    inverse = [0] * 256
    for value in range(1, 256):
        for candidate in range(1, 256):
            if _multiply(value, candidate) == 1:
                inverse[value] = candidate
                break
    sbox = []
    for value in range(256):
        b = inverse[value]
        s = b
        for shift in range(1, 5):
            s ^= ((b << shift) | (b >> (8 - shift))) & 0xFF
        sbox.append(s ^ 0x63)
    inverse_sbox = [0] * 256
    for value, substituted in enumerate(sbox):
        inverse_sbox[substituted] = value
    products = {factor: [_multiply(value, factor) for value in range(256)] for factor in (2, 3, 9, 11, 13, 14)}
    return sbox, inverse_sbox, products


SBOX, INVERSE_SBOX, _PRODUCTS = _tables()
_M2, _M3, _M9, _M11, _M13, _M14 = (_PRODUCTS[f] for f in (2, 3, 9, 11, 13, 14))
ROUNDS = 14


def expand_key(key):
    """The 15 round keys of a 32-byte key, 16 bytes each."""
    if len(key) != 32:
        raise ValueError("AES-256 takes a 32-byte key")
    words = [list(key[i:i + 4]) for i in range(0, 32, 4)]
    rcon = 1
    for i in range(8, 4 * (ROUNDS + 1)):
        word = list(words[i - 1])
        if i % 8 == 0:
            word = [SBOX[b] for b in word[1:] + word[:1]]
            word[0] ^= rcon
            rcon = _times2(rcon)
        elif i % 8 == 4:
            word = [SBOX[b] for b in word]
        words.append([a ^ b for a, b in zip(words[i - 8], word)])
    return [sum(words[4 * r:4 * r + 4], []) for r in range(ROUNDS + 1)]


def _shift_rows(s):
    return [s[r + 4 * ((c + r) % 4)] for c in range(4) for r in range(4)]


def _unshift_rows(s):
    return [s[r + 4 * ((c - r) % 4)] for c in range(4) for r in range(4)]


def encrypt_block(round_keys, block):
    state = [b ^ k for b, k in zip(block, round_keys[0])]
    for round_number in range(1, ROUNDS + 1):
        state = _shift_rows([SBOX[b] for b in state])
        if round_number < ROUNDS:
            mixed = []
            for c in range(0, 16, 4):
                a0, a1, a2, a3 = state[c:c + 4]
                mixed += [
                    _M2[a0] ^ _M3[a1] ^ a2 ^ a3, a0 ^ _M2[a1] ^ _M3[a2] ^ a3,
                    a0 ^ a1 ^ _M2[a2] ^ _M3[a3], _M3[a0] ^ a1 ^ a2 ^ _M2[a3],
                ]
            state = mixed
        state = [b ^ k for b, k in zip(state, round_keys[round_number])]
    return bytes(state)


def decrypt_block(round_keys, block):
    state = [b ^ k for b, k in zip(block, round_keys[ROUNDS])]
    for round_number in range(ROUNDS - 1, -1, -1):
        state = [INVERSE_SBOX[b] for b in _unshift_rows(state)]
        state = [b ^ k for b, k in zip(state, round_keys[round_number])]
        if round_number > 0:
            mixed = []
            for c in range(0, 16, 4):
                a0, a1, a2, a3 = state[c:c + 4]
                mixed += [
                    _M14[a0] ^ _M11[a1] ^ _M13[a2] ^ _M9[a3], _M9[a0] ^ _M14[a1] ^ _M11[a2] ^ _M13[a3],
                    _M13[a0] ^ _M9[a1] ^ _M14[a2] ^ _M11[a3], _M11[a0] ^ _M13[a1] ^ _M9[a2] ^ _M14[a3],
                ]
            state = mixed
    return bytes(state)


def _round_keys(key, iv, data):
    if len(data) % 16 or len(iv) != 16:
        raise ValueError("CBC takes whole 16-byte blocks and a 16-byte IV")
    return expand_key(key)


def cbc_encrypt(key, iv, data):
    """`data` (a multiple of 16 bytes: pad it first) encrypted in CBC mode."""
    round_keys = _round_keys(key, iv, data)
    previous = iv
    out = bytearray()
    for i in range(0, len(data), 16):
        previous = encrypt_block(round_keys, bytes(a ^ b for a, b in zip(data[i:i + 16], previous)))
        out += previous
    return bytes(out)


def cbc_decrypt(key, iv, data):
    """`data` decrypted in CBC mode (padding left in place)."""
    round_keys = _round_keys(key, iv, data)
    previous = iv
    out = bytearray()
    for i in range(0, len(data), 16):
        block = data[i:i + 16]
        out += bytes(a ^ b for a, b in zip(decrypt_block(round_keys, block), previous))
        previous = block
    return bytes(out)
