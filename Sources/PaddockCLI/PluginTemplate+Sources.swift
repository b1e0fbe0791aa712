import PaddockCore

/// The handler skeletons and README of a new plugin, in their final shape:
/// the Python SDK (`sdk/python/paddock_plugin`, which starts a plugin as
/// `python3 -m paddock_plugin main.py`) and the Swift SDK
/// (`PaddockPluginKit`) run them.
extension PluginTemplate {
    var pythonHandler: String {
        let body: String
        switch type {
        case .tool:
            body = """
                @plugin.tool("hello")
                def hello(params, context):
                    \"\"\"Greets someone by name. `params` was validated by the host.\"\"\"
                    name = params["name"]
                    context.log("greeting", name=name)
                    return {"greeting": f"Hello, {name}!"}
                """
        case .model:
            body = """
                @plugin.model("echo")
                def echo(messages, params, context):
                    \"\"\"Streams the last message back word by word, then returns it whole.\"\"\"
                    text = messages[-1]["content"] if messages else ""
                    for word in text.split():
                        yield {"delta": word + " "}
                    return {"content": text, "usage": {"completion_tokens": len(text.split())}}
                """
        case .extension_:
            body = """
                @plugin.endpoint("GET", "/hello")
                def hello(request, context):
                    \"\"\"Answers GET /hello?name=... with a JSON greeting.\"\"\"
                    name = request.params["name"]
                    return {
                        "status": 200,
                        "headers": {"content-type": "application/json"},
                        "body": {"greeting": f"Hello, {name}!"},
                    }
                """
        }
        return """
            \"\"\"\(title): the \(name) plugin's handlers.

            Paddock starts it as `python3 -m paddock_plugin main.py`: the SDK imports
            this module, finds `plugin` and serves its handlers.
            \"\"\"

            from paddock_plugin import Plugin

            plugin = Plugin()


            \(body)

            """
    }

    var swiftPackage: String {
        """
        // swift-tools-version: 6.1
        // \(title): a native Paddock plugin. Set PADDOCK_SOURCE to a checkout of Paddock.
        import Foundation
        import PackageDescription

        let paddock = Context.environment["PADDOCK_SOURCE"] ?? "../paddock"

        let package = Package(
            name: "\(swiftTarget)",
            dependencies: [.package(path: paddock)],
            targets: [
                .executableTarget(
                    name: "\(swiftTarget)",
                    dependencies: [
                        .product(name: "PaddockPluginKit", package: URL(fileURLWithPath: paddock).lastPathComponent)
                    ],
                    // Static Swift libraries: the sandbox does not expose the toolchain.
                    linkerSettings: [.unsafeFlags(["-static-stdlib"])]
                )
            ]
        )

        """
    }

    var swiftHandler: String {
        let body: String
        switch type {
        case .tool:
            body = """
                plugin.tool("hello") { params, context in
                    let name = params["name"]?.stringValue ?? "world"
                    context.log("greeting", metadata: ["name": name])
                    return ["greeting": .string("Hello, \\(name)!")]
                }
                """
        case .model:
            body = """
                plugin.model("echo") { messages, params, context in
                    let text = messages.arrayValue?.last?["content"]?.stringValue ?? ""
                    for word in text.split(separator: " ") {
                        try await context.stream(["delta": .string(String(word) + " ")])
                    }
                    return ["content": .string(text)]
                }
                """
        case .extension_:
            body = """
                plugin.endpoint(.GET, "/hello") { request, context in
                    let name = request.params["name"]?.stringValue ?? "world"
                    return EndpointResponse(status: 200, json: ["greeting": .string("Hello, \\(name)!")])
                }
                """
        }
        return """
            // \(title): \(name) plugin entry point, run by PaddockPluginKit.
            import PaddockPluginKit

            let plugin = Plugin()

            \(body)

            try await plugin.run()

            """
    }

    var readme: String {
        let build = language == .swift ? "\n- `swift build -c release` builds it (set `PADDOCK_SOURCE` to a Paddock checkout).\n" : "\n"
        return """
            # \(title)

            \(summaryLine)

            - `manifest.yaml` declares who the plugin is, how it runs and what it may do.
            - `\(handlerFile)` holds the handler.
            \(build)
            ## Develop

            ```sh
            paddock validate .          # check the manifest against every rule
            ```

            Every permission is off by default: set what the plugin needs under
            `permission:` in `manifest.yaml` (storage quota, network, endpoints, ...).

            """
    }

    private var summaryLine: String {
        "A Paddock \(type.rawValue) plugin by \(author), written in \(language == .python ? "Python" : "Swift")."
    }
}
