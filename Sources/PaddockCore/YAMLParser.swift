internal import CYAML

/// Parses YAML text into a ``YAMLNode`` tree with libyaml's document API.
///
/// Hostile input is bounded: the text size, the nesting depth and the number
/// of nodes after alias expansion are capped, so an alias bomb or a deeply
/// nested document is a coded error and not an exhausted machine.
public struct YAMLParser: Sendable {
    public var maximumBytes: Int
    public var maximumDepth: Int
    public var maximumNodes: Int

    public init(maximumBytes: Int = 1 << 20, maximumDepth: Int = 64, maximumNodes: Int = 100_000) {
        self.maximumBytes = maximumBytes
        self.maximumDepth = maximumDepth
        self.maximumNodes = maximumNodes
    }

    /// Parses one YAML document.
    /// - Returns: the root node, or nil for an empty document.
    /// - Throws: ``PaddockError`` 102 for a syntax error (with `line` and
    ///   `column` in its details), more than one document, or a document over
    ///   the limits.
    public func parse(_ bytes: [UInt8]) throws(PaddockError) -> YAMLNode? {
        guard bytes.count <= maximumBytes else {
            throw PaddockError(.wrongFormat, "YAML document is \(bytes.count) bytes, over the limit of \(maximumBytes)")
        }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw PaddockError(.wrongFormat, "libyaml could not allocate a parser")
        }
        defer { yaml_parser_delete(&parser) }

        return try bytes.withUnsafeBufferPointer { buffer throws(PaddockError) -> YAMLNode? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)

            var document = yaml_document_t()
            guard yaml_parser_load(&parser, &document) == 1 else { throw syntaxError(parser) }
            defer { yaml_document_delete(&document) }
            guard let root = yaml_document_get_root_node(&document) else { return nil }

            var builder = TreeBuilder(limits: self)
            let tree = try builder.build(root, in: &document, depth: 0)

            var next = yaml_document_t()
            guard yaml_parser_load(&parser, &next) == 1 else { throw syntaxError(parser) }
            defer { yaml_document_delete(&next) }
            if let extra = yaml_document_get_root_node(&next) {
                throw PaddockError(
                    .wrongFormat,
                    "found a second YAML document at line \(Int(extra.pointee.start_mark.line) + 1); a manifest is one document",
                    details: ["line": String(extra.pointee.start_mark.line + 1)]
                )
            }
            return tree
        }
    }

    private func syntaxError(_ parser: yaml_parser_t) -> PaddockError {
        let problem = parser.problem.map { String(cString: $0) } ?? "unknown error"
        // Scanner and parser errors carry the problem's mark; reader errors
        // (bad encoding) carry only a byte offset.
        let mark = parser.error == YAML_READER_ERROR ? parser.mark : parser.problem_mark
        let line = Int(mark.line) + 1
        let column = Int(mark.column) + 1
        var message = "YAML syntax error at line \(line), column \(column): \(problem)"
        if let context = parser.context.map({ String(cString: $0) }) {
            message += " (\(context) at line \(Int(parser.context_mark.line) + 1))"
        }
        return PaddockError(.wrongFormat, message, details: ["line": String(line), "column": String(column)])
    }
}

/// Converts libyaml's node table into a tree, counting nodes as it goes.
private struct TreeBuilder {
    let limits: YAMLParser
    var produced = 0

    init(limits: YAMLParser) {
        self.limits = limits
    }

    mutating func build(
        _ node: UnsafeMutablePointer<yaml_node_t>,
        in document: inout yaml_document_t,
        depth: Int
    ) throws(PaddockError) -> YAMLNode {
        let line = Int(node.pointee.start_mark.line) + 1
        let column = Int(node.pointee.start_mark.column) + 1
        let details = ["line": String(line), "column": String(column)]
        produced += 1
        guard produced <= limits.maximumNodes else {
            throw PaddockError(
                .wrongFormat,
                "YAML document expands to more than \(limits.maximumNodes) nodes (aliases included) at line \(line)",
                details: details
            )
        }
        guard depth < limits.maximumDepth else {
            throw PaddockError(
                .wrongFormat,
                "YAML document nests deeper than \(limits.maximumDepth) levels at line \(line)",
                details: details
            )
        }

        switch node.pointee.type {
        case YAML_SCALAR_NODE:
            let scalar = node.pointee.data.scalar
            let bytes = UnsafeBufferPointer(start: scalar.value, count: scalar.length)
            let text = String(decoding: bytes, as: UTF8.self)
            // libyaml's loader gives every untagged scalar the `str` tag, so
            // only the style tells a quoted "30" from a plain 30.
            let quoted = scalar.style != YAML_PLAIN_SCALAR_STYLE
            return YAMLNode(.scalar(text, quoted: quoted), line: line, column: column)

        case YAML_SEQUENCE_NODE:
            var items: [YAMLNode] = []
            var item = node.pointee.data.sequence.items.start
            while let current = item, current != node.pointee.data.sequence.items.top {
                items.append(try child(current.pointee, in: &document, depth: depth))
                item = current + 1
            }
            return YAMLNode(.sequence(items), line: line, column: column)

        case YAML_MAPPING_NODE:
            var pairs: [(key: YAMLNode, value: YAMLNode)] = []
            var pair = node.pointee.data.mapping.pairs.start
            while let current = pair, current != node.pointee.data.mapping.pairs.top {
                let key = try child(current.pointee.key, in: &document, depth: depth)
                let value = try child(current.pointee.value, in: &document, depth: depth)
                pairs.append((key, value))
                pair = current + 1
            }
            return YAMLNode(.mapping(pairs), line: line, column: column)

        default:
            throw PaddockError(.wrongFormat, "empty YAML node at line \(line)", details: details)
        }
    }

    private mutating func child(
        _ index: Int32,
        in document: inout yaml_document_t,
        depth: Int
    ) throws(PaddockError) -> YAMLNode {
        guard let node = yaml_document_get_node(&document, index) else {
            throw PaddockError(.wrongFormat, "YAML document refers to a missing node")
        }
        return try build(node, in: &document, depth: depth + 1)
    }
}

extension YAMLParser {
    /// Parses the YAML file at `path`.
    /// - Throws: ``PaddockError`` 101 when the file does not exist, 302 when
    ///   it cannot be read, 102 as ``parse(_:)``.
    public func parse(contentsOf path: String) throws(PaddockError) -> YAMLNode? {
        guard FileSystem.kind(of: path) == .regular else {
            throw PaddockError(.configurationMissing, "\(path) does not exist or is not a regular file")
        }
        return try parse(FileSystem.read(path, limit: maximumBytes + 1))
    }
}
