/// Two errors are equal when they say the same: code, message, field and
/// details (the underlying error is evidence, not identity).
extension PaddockError: Equatable {
    public static func == (lhs: PaddockError, rhs: PaddockError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.field == rhs.field && lhs.details == rhs.details
    }
}
