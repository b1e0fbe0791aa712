// Echo (Swift): the plugin's handlers, served by PaddockPluginKit.
import PaddockPluginKit

let plugin = Plugin()

plugin.tool("echo") { params, _ in params }

plugin.tool("count", stream: { params, context in
    AsyncThrowingStream { continuation in
        let task = Task {
            let n = params["n"].flatMap { if case .int(let value) = $0 { value } else { nil } } ?? 0
            let delay = params["delay_ms"].flatMap { if case .int(let value) = $0 { value } else { nil } } ?? 0
            context.log("counting to \(n)")
            for number in 1...max(1, n) where n > 0 {
                if delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
                continuation.yield(["number": .int(number)])
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
    }
})

plugin.tool("sleep") { params, context in
    let seconds = params["seconds"]?.numberValue ?? 0
    let end = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < end {
        try context.checkCancellation()
        try await Task.sleep(for: .milliseconds(10))
    }
    return ["slept": .double(seconds)]
}

plugin.endpoint(.GET, "/hello") { request, context in
    let name = request.params["name"]?.stringValue ?? "world"
    return EndpointResponse(status: 200, json: ["greeting": .string("Hello, \(name)!")])
}

try await plugin.run()
