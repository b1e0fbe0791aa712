/// Text for people in several languages, keyed by locale (`en_US`, `zh_Hans`).
/// Manifests may write a plain string, which is taken as `en_US`.
public struct LocalizedText: Hashable, Sendable, Codable {
    public static let defaultLocale = "en_US"

    public var translations: [String: String]

    public init(_ translations: [String: String]) {
        self.translations = translations
    }

    public init(_ text: String) {
        self.translations = [Self.defaultLocale: text]
    }

    /// The text in `locale`, else in `en_US`, else in the first locale by name.
    public func text(for locale: String = defaultLocale) -> String {
        translations[locale] ?? translations[Self.defaultLocale]
            ?? translations.sorted { $0.key < $1.key }.first?.value ?? ""
    }

    public init(from decoder: any Decoder) throws {
        translations = try decoder.singleValueContainer().decode([String: String].self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(translations)
    }
}

extension LocalizedText: YAMLDecodable {
    public init?(from yaml: YAMLDecoder) {
        switch yaml.node.kind {
        case .scalar(let text, _):
            self.init(text)
        case .mapping(let pairs):
            var translations: [String: String] = [:]
            for (key, value) in pairs {
                guard case .scalar(let locale, _) = key.kind, case .scalar(let text, _) = value.kind else {
                    yaml.problem(.wrongFormat, "expected a text or a map from locale (en_US, zh_Hans, ...) to text")
                    return nil
                }
                translations[locale] = text
            }
            guard !translations.isEmpty else {
                yaml.problem(.configurationMissing, "no text in any locale")
                return nil
            }
            self.init(translations)
        case .sequence:
            yaml.problem(.wrongFormat, "expected a text or a map from locale (en_US, zh_Hans, ...) to text, found a list")
            return nil
        }
    }
}
