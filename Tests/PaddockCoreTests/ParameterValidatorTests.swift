import PaddockCore
import PaddockTestSupport
import Testing

@Suite struct ParameterValidatorTests {
    let parameters = [
        ParameterSchema(name: "city", type: .string, required: true, min: 1, max: 20, pattern: "[A-Za-z ]+"),
        ParameterSchema(name: "days", type: .integer, default: .int(3), min: 1, max: 14),
        ParameterSchema(name: "units", type: .string, choices: [.string("metric"), .string("imperial")]),
        ParameterSchema(name: "threshold", type: .number),
        ParameterSchema(name: "alerts", type: .boolean),
        ParameterSchema(name: "tags", type: .array, max: 3, items: ParameterSchema(name: "tag", type: .string)),
        ParameterSchema(
            name: "home",
            type: .object,
            properties: [ParameterSchema(name: "zip", type: .string, required: true, pattern: "[0-9]{5}")]
        ),
        ParameterSchema(name: "photo", type: .file),
    ]

    private func violations(_ arguments: JSONValue) -> [String: Int] {
        let outcome = ParameterValidator(parameters: parameters).validate(arguments)
        return Dictionary(outcome.violations.map { ($0.field ?? "", $0.code.rawValue) }, uniquingKeysWith: { a, _ in a })
    }

    @Test func validArgumentsPassAndGetDefaults() {
        let outcome = ParameterValidator(parameters: parameters).validate(.object([
            "city": .string("Berlin"), "units": .string("metric"), "threshold": .int(2), "alerts": .bool(true),
            "tags": .array([.string("a")]), "home": .object(["zip": .string("10115")]),
            "photo": .object(["name": .string("a.png"), "data": .string("aGVsbG8=")]),
            "extra": .string("passed through"),
        ]))
        #expect(outcome.violations.isEmpty, "\(outcome.violations)")
        #expect(outcome.arguments["days"] == .int(3))
        #expect(outcome.arguments["extra"] == .string("passed through"))
    }

    @Test func missingRequiredIs101() {
        #expect(violations(.object([:])) == ["city": 101])
        #expect(violations(.object(["city": .null])) == ["city": 101])
    }

    @Test func everyViolationIsReportedWithItsPath() {
        let found = violations(.object([
            "city": .string("Berlin 123"), "days": .int(30), "units": .string("kelvin"),
            "threshold": .string("high"), "alerts": .string("yes"),
            "tags": .array([.string("a"), .int(2), .string("c"), .string("d")]),
            "home": .object(["zip": .string("abc")]), "photo": .string("a.png"),
        ]))
        #expect(found == [
            "city": 102, "days": 102, "units": 102, "threshold": 102, "alerts": 102,
            "tags": 102, "tags[1]": 102, "home.zip": 102, "photo": 102,
        ])
    }

    @Test func missingNestedRequiredIs101WithPath() {
        #expect(violations(.object(["city": .string("Oslo"), "home": .object([:])])) == ["home.zip": 101])
    }

    @Test func integersAcceptIntegralNumbersOnly() {
        #expect(violations(.object(["city": .string("Oslo"), "days": .double(4.0)])) == [:])
        #expect(violations(.object(["city": .string("Oslo"), "days": .double(4.5)])) == ["days": 102])
    }

    @Test func stringLengthCountsCharacters() {
        let schema = [ParameterSchema(name: "s", type: .string, max: 2)]
        #expect(ParameterValidator(parameters: schema).validate(.object(["s": .string("天气")])).isValid)
        #expect(!ParameterValidator(parameters: schema).validate(.object(["s": .string("天气a")])).isValid)
    }

    @Test func nonObjectArgumentsAre102() {
        let outcome = ParameterValidator(parameters: parameters).validate(.array([]))
        #expect(outcome.violations.map(\.code.rawValue) == [102])
    }
}
