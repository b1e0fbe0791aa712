import Glibc

/// The seed's rules over a whole decoded manifest: forbidden combinations,
/// one provider per section, endpoint methods covered by
/// `permission.endpoints`, declared files present, unique names.
///
/// It walks the YAML tree so that each problem names its field and line; a
/// field that already failed to decode is not reported twice.
struct ManifestValidator {
    let root: YAMLDecoder
    let manifest: Manifest
    /// The plugin directory, for checking declared files; nil skips that check.
    let directory: String?

    private var diagnostics: YAMLDiagnostics { root.diagnostics }

    func validate() {
        checkName()
        checkResource()
        checkSettings()
        checkItemNames()
        checkSections()
        checkEndpointMethods()
        checkDeclaredFiles()
        checkUniqueNames()
    }

    private func checkName() {
        guard let field = root.optional("name"), !diagnostics.hasError(at: "name"), let name = field.text else {
            return
        }
        let allowed = name.utf8.allSatisfy { (0x61...0x7a).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2d }
        if name.isEmpty || name.utf8.count > 64 || !allowed {
            field.problem(.wrongFormat, "name '\(name)' must be 1–64 characters of a-z, 0-9 and '-'")
        }
    }

    private func checkResource() {
        let resource = root.optional("resource")
        if let field = resource?.optional("memory"), !diagnostics.hasError(at: field.path),
            let memory = manifest.resource.memory, memory.bytes < 1 << 20
        {
            field.problem(.wrongFormat, "memory \(memory) is below the minimum of 1MiB")
        }
        if let field = resource?.optional("cpu_seconds"), !diagnostics.hasError(at: field.path),
            let seconds = manifest.resource.cpuSeconds, seconds < 1
        {
            field.problem(.wrongFormat, "cpu_seconds must be at least 1")
        }
        if let field = resource?.optional("workers"), !diagnostics.hasError(at: field.path),
            !(1...256).contains(manifest.resource.workers)
        {
            field.problem(.wrongFormat, "workers must be between 1 and 256")
        }
        if let field = resource?.optional("cpu"), !diagnostics.hasError(at: field.path),
            let cpu = manifest.resource.cpu, !(0.01...1024).contains(cpu)
        {
            field.problem(.wrongFormat, "cpu is a share of one CPU between 0.01 and 1024 (0.5 is half a CPU)")
        }
        if let field = resource?.optional("disk"), !diagnostics.hasError(at: field.path),
            let disk = manifest.resource.disk, disk.bytes < 1 << 20
        {
            field.problem(.wrongFormat, "disk \(disk) is below the minimum of 1MiB")
        }
        if let field = resource?.optional("disk_files"), !diagnostics.hasError(at: field.path),
            let files = manifest.resource.diskFiles, !(16...1_000_000).contains(files)
        {
            field.problem(.wrongFormat, "disk_files must be between 16 and 1000000")
        }
    }

    private func checkSettings() {
        for field in root.optional("settings")?.elements ?? [] where !diagnostics.hasError(at: field.path) {
            guard let setting = Setting(from: field.quiet) else { continue }
            if !Self.isIdentifier(setting.name, extra: "_") || setting.name.first?.isASCIIDigit == true {
                field.optional("name")?.problem(
                    .wrongFormat,
                    "setting name '\(setting.name)' must be letters, digits and '_', not starting with a digit"
                )
            }
            if setting.type == .select, let options = field.required("options"), setting.options?.isEmpty ?? true {
                options.problem(.configurationMissing, "a select setting needs at least one option")
            }
            if let value = setting.default, let defaultField = field.optional("default"),
                !Self.fits(value, setting: setting)
            {
                defaultField.problem(.wrongFormat, "default does not fit the setting's type \(setting.type.rawValue)")
            }
        }
    }

    private static func fits(_ value: JSONValue, setting: Setting) -> Bool {
        switch (setting.type, value) {
        case (.string, .string), (.secret, .string), (.boolean, .bool), (.integer, .int),
            (.number, .int), (.number, .double):
            true
        case (.select, .string(let choice)):
            setting.options?.contains(choice) ?? false
        default:
            false
        }
    }

    private func checkItemNames() {
        for key in ["tools", "models"] {
            for item in items(of: key) {
                guard let field = item.optional("name"), let name = field.text else { continue }
                if !Self.isIdentifier(name, extra: "_.-") || name.utf8.count > 64 {
                    field.problem(.wrongFormat, "name '\(name)' must be 1–64 characters of letters, digits, '_', '.' and '-'")
                }
            }
        }
        for item in items(of: "endpoints") {
            guard let field = item.optional("path"), let path = field.text else { continue }
            if !path.hasPrefix("/") || path.contains(where: { $0.isWhitespace || $0 == "?" || $0 == "#" }) {
                field.problem(.wrongFormat, "endpoint path '\(path)' must start with '/' and hold no spaces, '?' or '#'")
            }
        }
        for item in items(of: "tools") {
            if let field = item.optional("cache_ttl"), let ttl = Int(field.text ?? ""), !(0...Self.maximumCacheTTL).contains(ttl) {
                field.problem(.wrongFormat, "cache_ttl must be 0 to \(Self.maximumCacheTTL) seconds (a day)")
            }
        }
    }

    /// The longest a tool's results may be cached, in seconds.
    static let maximumCacheTTL = 86_400

    static func isIdentifier(_ text: String, extra: String) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCIIDigit || $0.isASCIILetter || extra.contains($0) }
    }

    private func checkSections() {
        let present = Manifest.sectionKeys.compactMap { key in root.optional(key).map { (key, $0) } }
        let keys = Set(present.map(\.0))
        if keys.isSuperset(of: ["tools", "models"]) {
            root.optional("models")?.problem(.forbiddenCombination, "a plugin may not declare both tools and models")
        }
        if keys.isSuperset(of: ["models", "endpoints"]) {
            root.optional("endpoints")?.problem(
                .forbiddenCombination,
                "a plugin may not declare both models and endpoints"
            )
        }
        if present.isEmpty, case .mapping = root.node.kind {
            root.problem(.forbiddenCombination, "the plugin declares nothing: add tools, models or endpoints")
        }
        for (key, section) in present {
            let providers = section.elements
            if providers.count > 1 {
                providers[1].problem(
                    .forbiddenCombination,
                    "'\(key)' declares \(providers.count) providers; a plugin has at most one provider per section"
                )
            } else if case .sequence = section.node.kind, providers.isEmpty {
                section.problem(.forbiddenCombination, "'\(key)' is empty; declare one provider or remove it")
            }
        }
    }

    private func checkEndpointMethods() {
        guard !diagnostics.hasError(at: "permission.endpoints") else { return }
        let allowed = Set(manifest.permission.endpoints)
        for item in items(of: "endpoints") {
            guard let field = item.optional("method"), let text = field.text,
                let method = HTTPMethod(rawValue: text.uppercased()), !allowed.contains(method)
            else { continue }
            let declared = allowed.isEmpty ? "none" : allowed.map(\.rawValue).sorted().joined(separator: ", ")
            field.problem(
                .permissionDenied,
                "endpoint method \(method.rawValue) is not listed in permission.endpoints (declared: \(declared))"
            )
        }
    }

    private func checkDeclaredFiles() {
        guard let directory else { return }
        var declared: [YAMLDecoder] = []
        if let entrypoint = root.optional("runner")?.optional("entrypoint") { declared.append(entrypoint) }
        for key in Manifest.sectionKeys {
            declared += items(of: key).compactMap { $0.optional("source") }
        }
        for field in declared where !diagnostics.hasError(at: field.path) {
            guard let path = field.text else { continue }
            if path.isEmpty || path.hasPrefix("/") || path.split(separator: "/").contains("..") {
                field.problem(.wrongFormat, "'\(path)' must be a path inside the plugin directory")
                continue
            }
            do {
                guard let fd = try FileSystem.openInside(directory, path) else {
                    field.problem(.dependencyUnavailable, "declared file '\(path)' does not exist in the plugin directory")
                    continue
                }
                close(fd)
            } catch {
                field.problem(error.code, "declared file \(error.message)")
            }
        }
    }

    private func checkUniqueNames() {
        checkUnique(root.optional("settings")?.elements ?? [], key: { $0.optional("name")?.text }, what: "setting")
        checkUnique(items(of: "tools"), key: { $0.optional("name")?.text }, what: "tool")
        checkUnique(items(of: "models"), key: { $0.optional("name")?.text }, what: "model")
        checkUnique(
            items(of: "endpoints"),
            key: { item in
                guard let path = item.optional("path")?.text, let method = item.optional("method")?.text else {
                    return nil
                }
                return "\(method.uppercased()) \(path)"
            },
            what: "endpoint"
        )
    }

    private func checkUnique(_ elements: [YAMLDecoder], key: (YAMLDecoder) -> String?, what: String) {
        var seen: Set<String> = []
        for element in elements {
            guard let name = key(element) else { continue }
            if !seen.insert(name).inserted {
                element.problem(.wrongFormat, "\(what) '\(name)' is declared more than once")
            }
        }
    }

    /// Every item of every provider in a section.
    private func items(of section: String) -> [YAMLDecoder] {
        (root.optional(section)?.elements ?? []).flatMap { $0.optional("items")?.elements ?? [] }
    }
}
