/// The test of a flow's condition node: `{value, <test>: operand}`, and
/// what counts as true for a node's `when`.
public enum FlowCondition {
    public enum Test: String, Sendable, CaseIterable {
        case equals, notEquals = "not_equals", greaterThan = "greater_than", lessThan = "less_than", contains
        /// `exists: true` holds when the value is not null; `exists: false` when it is.
        case exists
        /// `truthy: true` holds when the value is true by ``FlowCondition/isTrue(_:)``.
        case truthy

        /// The one test among `members` (beside `value`).
        init(_ members: [String: JSONValue], field: String, node: String) throws(PaddockError) {
            let tests = members.keys.filter { $0 != "value" }.sorted()
            guard members["value"] != nil, tests.count == 1, let test = Test(rawValue: tests[0]) else {
                throw PaddockError(
                    .wrongFormat, "node '\(node)': a condition is {value, <test>: operand}, the test one of \(Test.allCases.map(\.rawValue).joined(separator: ", "))",
                    field: field, details: ["node": node])
            }
            self = test
        }

        /// Whether `value` passes the test with `operand`.
        public func holds(_ value: JSONValue, _ operand: JSONValue) -> Bool {
            switch self {
            case .equals: return FlowCondition.same(value, operand)
            case .notEquals: return !FlowCondition.same(value, operand)
            case .greaterThan, .lessThan:
                if let a = value.numberValue, let b = operand.numberValue { return self == .greaterThan ? a > b : a < b }
                if let a = value.stringValue, let b = operand.stringValue { return self == .greaterThan ? a > b : a < b }
                return false
            case .contains:
                switch value {
                case .string(let text): return operand.stringValue.map { !$0.isEmpty && text.contains($0) } ?? false
                case .array(let items): return items.contains { FlowCondition.same($0, operand) }
                case .object(let members): return operand.stringValue.map { members[$0] != nil } ?? false
                default: return false
                }
            case .exists: return (value != .null) == FlowCondition.isTrue(operand)
            case .truthy: return FlowCondition.isTrue(value) == FlowCondition.isTrue(operand)
            }
        }
    }

    /// False for null, false, 0, "", "false", [] and {}; true for anything else.
    public static func isTrue(_ value: JSONValue) -> Bool {
        switch value {
        case .null: false
        case .bool(let flag): flag
        case .string(let text): !text.isEmpty && text != "false"
        case .array(let items): !items.isEmpty
        case .object(let members): !members.isEmpty
        default: value.numberValue.map { $0 != 0 } ?? true
        }
    }

    /// Equal values, numbers by value (1 equals 1.0).
    static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let x = a.numberValue, let y = b.numberValue { return x == y }
        return a == b
    }
}
