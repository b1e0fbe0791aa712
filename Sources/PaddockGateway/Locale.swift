import PaddockCore

/// Picks manifest locales (`en_US`, `zh_Hans`) from an `Accept-Language`
/// header (`zh-CN,zh;q=0.9,en;q=0.8`).
enum AcceptLanguage {
    /// The manifest locales the header asks for, most wanted first, then `en_US`.
    static func locales(_ header: String?) -> [String] {
        let ranked = (header ?? "").split(separator: ",").enumerated().compactMap { index, part -> (String, Double, Int)? in
            let pieces = part.split(separator: ";").map { String($0.filter { $0 != " " && $0 != "\t" }) }
            guard let tag = pieces.first, !tag.isEmpty, tag != "*" else { return nil }
            let quality = pieces.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            return (tag, quality, index)
        }
        let tags = ranked.filter { $0.1 > 0 }.sorted { ($0.1, -$0.2) > ($1.1, -$1.2) }.map(\.0)
        return tags.flatMap(manifestLocales) + [LocalizedText.defaultLocale]
    }

    /// `zh-CN` → `zh_Hans`, `zh-TW` → `zh_Hant`, `en` → `en_US`, `pt-BR` → `pt_BR`.
    private static func manifestLocales(_ tag: String) -> [String] {
        let parts = tag.split(separator: "-").map(String.init)
        guard let first = parts.first, first.allSatisfy({ $0.isLetter }) else { return [] }
        let language = first.lowercased()
        let region = parts.dropFirst().first
        switch language {
        case "zh":
            let traditional = ["tw", "hk", "mo", "hant"].contains(region?.lowercased() ?? "")
            return [traditional ? "zh_Hant" : "zh_Hans"]
        case "en": return region.map { ["en_\($0.uppercased())", "en_US"] } ?? ["en_US"]
        default: return region.map { ["\(language)_\($0.uppercased())", language] } ?? [language]
        }
    }

    /// The text in the first of `locales` it has.
    static func pick(_ translations: JSONValue?, _ locales: [String]) -> JSONValue {
        guard case .object(let texts)? = translations else { return translations ?? .null }
        for locale in locales { if let text = texts[locale] { return text } }
        return texts.sorted { $0.key < $1.key }.first?.value ?? .null
    }
}
