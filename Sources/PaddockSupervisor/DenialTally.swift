import PaddockStorage

/// One plugin's denied host calls on their way to the audit log. The first
/// denial of a permission in a minute is written at once, before the answer
/// goes out; later ones in that minute are counted here and written together
/// by one flush a second later. A plugin looping on a denied call costs the
/// database one write a second, not one per call.
struct DenialTally {
    private struct Event: Hashable {
        var permission: String
        var minute: Int64
    }

    /// What to do with a denial.
    enum Decision: Equatable {
        /// The first of its event: write it now.
        case write
        /// Counted; schedule a flush when asked (one is not pending yet).
        case counted(scheduleFlush: Bool)
    }

    /// Events that have their row (this minute's and the last).
    private var written: Set<Event> = []
    /// Denials counted since the last flush, one entry per event.
    private var pending: [Event: AuditLog.Entry] = [:]
    private var flushScheduled = false

    mutating func note(_ denial: AuditLog.Entry) -> Decision {
        let event = Event(permission: denial.permission, minute: denial.at / 60_000)
        written = written.filter { $0.minute >= event.minute - 1 }
        guard written.contains(event) else {
            written.insert(event)
            return .write
        }
        if var counted = pending[event] {
            counted.count += 1
            counted.lastAt = denial.at
            counted.lastMethod = denial.method
            counted.lastMessage = denial.message
            pending[event] = counted
        } else {
            pending[event] = denial
        }
        defer { flushScheduled = true }
        return .counted(scheduleFlush: !flushScheduled)
    }

    /// The counted denials, to add to their events' rows; the tally starts over.
    mutating func flush() -> [AuditLog.Entry] {
        defer {
            pending = [:]
            flushScheduled = false
        }
        return Array(pending.values)
    }
}
