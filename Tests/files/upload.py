"""Uploads a file of SIZE bytes in chunks through the gateway as a client
would: starts the upload with the whole file's MD5, sends every chunk with
its Content-Range, drops the connection in the middle of one chunk and
sends it again, and prints the last answer (the file) as JSON.
    upload.py PORT KEY SIZE CHUNK [--md5 HEX]"""

import hashlib
import http.client
import json
import socket
import sys

port, key, size, chunk = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
given_md5 = sys.argv[6] if len(sys.argv) > 6 and sys.argv[5] == "--md5" else None
chunks = (size + chunk - 1) // chunk


def piece(index):
    """Chunk `index`: bytes made from its number, so the whole file is never in memory."""
    seed = hashlib.sha256(str(index).encode()).digest()
    length = min(chunk, size - index * chunk)
    return (seed * (length // len(seed) + 1))[:length]


md5 = hashlib.md5()
for index in range(chunks):
    md5.update(piece(index))


def request(method, path, body=b"", headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request(method, path, body=body, headers={"Authorization": "Bearer " + key, **(headers or {})})
    response = connection.getresponse()
    answer = response.status, json.loads(response.read() or b"null")
    connection.close()
    return answer


status, upload = request("POST", "/v1/files/uploads", json.dumps(
    {"name": "big.bin", "size": size, "chunk_size": chunk, "md5": given_md5 or md5.hexdigest(), "content_type": "application/octet-stream"}))
if status != 201:
    print(json.dumps({"start": status, "answer": upload}))
    sys.exit(0)
dropped = min(3, chunks - 1)
received_after_drop = None
last = None
for index in range(chunks):
    data = piece(index)
    start = index * chunk
    headers = {"Content-Range": f"bytes {start}-{start + len(data) - 1}/{size}", "Content-Type": "application/octet-stream"}
    if index == dropped:
        # The connection drops half way through the chunk: nothing of it may count.
        raw = socket.create_connection(("127.0.0.1", port))
        head = f"PUT /v1/files/uploads/{upload['upload']}/chunks/{index} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
        head += f"Content-Length: {len(data)}\r\nContent-Range: {headers['Content-Range']}\r\n\r\n"
        raw.sendall(head.encode() + data[: len(data) // 2])
        raw.close()
        _, progress = request("GET", f"/v1/files/uploads/{upload['upload']}")
        received_after_drop = progress.get("received")
    status, last = request("PUT", f"/v1/files/uploads/{upload['upload']}/chunks/{index}", data, headers)
    if status != 200:
        break
print(json.dumps({"status": status, "answer": last, "md5": md5.hexdigest(), "received_after_drop": received_after_drop,
                  "upload": upload["upload"], "dropped": dropped}))
