import Glibc
import Hummingbird

// bench-echo-server PORT: `POST /echo` answers with the request body as
// application/json, on 127.0.0.1:PORT. The bare Hummingbird baseline of
// Tests/bench/gateway.sh: Hummingbird's defaults (one event loop per core),
// no middleware, no parsing.

let arguments = CommandLine.arguments
guard arguments.count == 2, let port = Int(arguments[1]) else {
    print("usage: bench-echo-server PORT")
    exit(2)
}
let router = Router()
router.post("/echo") { request, _ -> Response in
    let body = try await request.body.collect(upTo: 1 << 20)
    return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
}
let application = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await application.runService()
