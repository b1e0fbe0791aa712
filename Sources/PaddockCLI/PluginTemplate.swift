import PaddockCore

/// The files `paddock init` writes: a manifest that passes validation, a
/// handler skeleton for the plugin's language and a README.
struct PluginTemplate {
    let type: PluginType
    let name: String
    let author: String
    let language: Runner.Language

    /// The files to write, relative to the plugin directory.
    var files: [(path: String, contents: String)] {
        var files = [("manifest.yaml", manifest), ("README.md", readme)]
        switch language {
        case .python:
            files.append((entrypoint, pythonHandler))
        case .swift:
            files.append(("Package.swift", swiftPackage))
            files.append((swiftSource, swiftHandler))
            files.append((".gitignore", ".build/\nPackage.resolved\n"))
        }
        return files
    }

    /// A title for people, from the id: `weather-forecast` → `Weather Forecast`.
    var title: String {
        name.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: " ")
    }

    /// The product and target name of a Swift plugin's package.
    var swiftTarget: String { name }

    var entrypoint: String { language == .python ? "main.py" : "Package.swift" }
    var swiftSource: String { "Sources/\(swiftTarget)/main.swift" }
    var handlerFile: String { language == .python ? entrypoint : swiftSource }
    var runnerVersion: String { language == .python ? "3.11" : "6.1" }

    var manifest: String {
        """
        # \(title): a Paddock \(type.rawValue) plugin. Field reference: Paddock's README.md.
        name: \(name)
        author: \(quoted(author))
        version: "0.1.0"
        type: \(type.rawValue)
        label: {en_US: \(quoted(title))}
        description: {en_US: \(quoted(summary))}
        runner: {language: \(language.rawValue), version: "\(runnerVersion)", entrypoint: \(entrypoint)}
        resource: {memory: 128MB, cpu_seconds: 30, workers: 1}
        permission:
          tools: false
          llms: false
          apps: none
          storage: 0
          network: false
          endpoints: [\(type == .extension_ ? "GET" : "")]
        settings: []
        \(section)
        """
    }

    private var summary: String {
        switch type {
        case .tool: "A tool that greets someone by name"
        case .model: "A model that echoes the last message back"
        case .extension_: "An HTTP endpoint that greets someone by name"
        }
    }

    private var section: String {
        switch type {
        case .tool:
            """
            tools:
              - provider: \(name)
                items:
                  - name: hello
                    description: {en_US: "Greets someone by name"}
                    parameters:
                      - {name: name, type: string, required: true, max: 100, description: "Who to greet"}
                    source: \(handlerFile)

            """
        case .model:
            """
            models:
              - provider: \(name)
                items:
                  - name: echo
                    model_type: llm
                    description: {en_US: "Echoes the last message back, word by word"}
                    parameters:
                      - {name: temperature, type: number, min: 0, max: 2, default: 0.7}
                    source: \(handlerFile)

            """
        case .extension_:
            """
            endpoints:
              - provider: \(name)
                items:
                  - path: /hello
                    method: GET
                    description: {en_US: "Greets someone by name"}
                    parameters:
                      - {name: name, type: string, required: false, default: world}
                    source: \(handlerFile)

            """
        }
    }

    /// A YAML double-quoted scalar: a JSON string literal is one.
    private func quoted(_ text: String) -> String {
        var literal = ""
        JSONValue.quote(text, into: &literal)
        return literal
    }
}
