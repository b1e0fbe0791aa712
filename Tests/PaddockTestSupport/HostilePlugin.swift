import Glibc

/// A plugin written as an attacker would: it speaks the protocol itself (no
/// SDK), blocks SIGTERM, answers `shutdown` and keeps running, never answers
/// `wait`, and streams as fast as the socket takes with `stream`. It logs
/// every `$/cancel` it receives to stderr, and can take its time to start.
public enum HostilePlugin {
    /// Writes the plugin; its tools are `wait` and `stream` (`{"chunk_bytes", "count"}`).
    public static func write(name: String, startDelaySeconds: Double = 0, memory: String = "128MB") throws -> String {
        let directory = "/tmp/paddock-test-plugins/\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let manifest = """
            name: \(name)
            author: tests
            version: "1.0.0"
            type: tool
            description: a plugin that ignores shutdown and SIGTERM
            runner: {language: python, version: "3.11", entrypoint: main.py}
            resource: {memory: \(memory), workers: 4}
            permission: {endpoints: []}
            tools:
              - provider: hostile
                items:
                  - {name: wait, parameters: [], source: main.py}
                  - name: stream
                    source: main.py
                    parameters:
                      - {name: chunk_bytes, type: integer, required: false}
                      - {name: count, type: integer, required: false}

            """
        try Fixture.writeWorldReadable(directory: directory, files: ["manifest.yaml": manifest, "main.py": source(startDelaySeconds)])
        return directory
    }

    private static func source(_ startDelay: Double) -> String {
        """
        import json, os, select, signal, sys, time
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT, signal.SIGHUP})
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(\(startDelay))
        fd = int(os.environ["PADDOCK_RPC_FD"])
        pending = b""
        streaming = None  # [id, chunk, remaining]

        def send(message):
            data = (json.dumps(message) + "\\n").encode()
            while data:
                data = data[os.write(fd, data):]

        def answer(request):
            method, rid = request.get("method"), request.get("id")
            if method == "$/cancel":
                sys.stderr.write("received $/cancel for call %s\\n" % request["params"]["id"])
                sys.stderr.flush()
                global streaming
                if streaming and streaming[0] == request["params"]["id"]:
                    streaming = None
                send({"jsonrpc": "2.0", "id": request["params"]["id"], "error": {"code": -32000, "message": "cancelled", "data": {"code": 204}}})
            elif method == "initialize":
                send({"jsonrpc": "2.0", "id": rid, "result": {"tools": ["wait", "stream"], "models": [], "endpoints": []}})
            elif method == "shutdown":
                sys.stderr.write("shutdown received: ignored\\n")
                sys.stderr.flush()
                send({"jsonrpc": "2.0", "id": rid, "result": None})
            elif method == "ping":
                send({"jsonrpc": "2.0", "id": rid, "result": {}})
            elif method == "tool.invoke" and request["params"]["tool"] == "stream":
                params = request["params"].get("params", {})
                chunk = {"jsonrpc": "2.0", "method": "stream.chunk", "params": {"id": rid, "chunk": {"data": "x" * params.get("chunk_bytes", 1024)}}}
                streaming = [rid, (json.dumps(chunk) + "\\n").encode(), params.get("count", 1 << 62)]
            elif method == "tool.invoke":
                sys.stderr.write("call %s waits forever\\n" % rid)
                sys.stderr.flush()

        while True:
            readable, _, _ = select.select([fd], [], [], 0 if streaming else None)
            if readable:
                data = os.read(fd, 65536)
                if not data:
                    while True:
                        time.sleep(3600)
                pending += data
                while b"\\n" in pending:
                    line, pending = pending.split(b"\\n", 1)
                    if line.strip():
                        answer(json.loads(line))
            if streaming:
                rid, frame, remaining = streaming
                for _ in range(min(remaining, 64)):
                    data = frame
                    while data:
                        data = data[os.write(fd, data):]
                streaming[2] = remaining - min(remaining, 64)
                if streaming[2] == 0:
                    send({"jsonrpc": "2.0", "id": rid, "result": {"done": True}})
                    streaming = None
        """
    }
}
