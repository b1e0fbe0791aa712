import ArgumentParser
import Foundation
import Glibc
import Hummingbird
import Logging
import PaddockCore
import PaddockGateway
import PaddockLogging

/// `paddock-gateway --supervisor DATA/paddockd.sock --listen 127.0.0.1:8080 [--config gateway.yaml] [--log-level LEVEL]`
@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "paddock-gateway", abstract: "Serve paddockd's plugins over HTTP.")

    @Option(help: "paddockd's control socket.") var supervisor: String = "./.paddock/paddockd.sock"
    @Option(help: "HOST:PORT to listen on (port 0: any free port, printed on start).") var listen: String = "127.0.0.1:8080"
    @Option(help: "A gateway.yaml: CORS, limits, rate limits, cache.") var config: String?
    @Option(
        help: "trace, debug, info (one line per request), notice, warning, error or critical; default: $PADDOCK_LOG_LEVEL, else info.")
    var logLevel: String?

    func run() async throws {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            throw ValidationError("--listen is HOST:PORT, not \(listen)")
        }
        let host = String(listen[..<colon])
        let settings: GatewayConfiguration
        do {
            LineLogHandler.bootstrap(level: try Logger.Level.configured(option: logLevel))
            settings = try config.map(GatewayConfiguration.load) ?? GatewayConfiguration()
        } catch {
            FileHandle.standardError.write(Data("error \(error.code.rawValue): \(error.message)\n".utf8))
            throw ExitCode.failure
        }
        let gateway = Gateway(configuration: settings, supervisorSocket: supervisor, logger: Logger(label: "paddock-gateway"))
        let application = gateway.application(host: host, port: port) { channel in
            // On standard output, whatever the log level: `paddock up` and the tests read the port here.
            print("paddock-gateway listening on http://\(host):\(channel.localAddress?.port ?? port)")
            fflush(nil)
        }
        try await application.runService()
    }
}
