public import ArgumentParser

/// The `paddock` command line: plugin authors' and operators' verbs.
public struct PaddockCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "paddock",
        abstract: "Build, check and run sandboxed Paddock plugins.",
        subcommands: [
            ValidateCommand.self, InitCommand.self, PackCommand.self, RunCommand.self, InstallCommand.self, RollbackCommand.self,
            VersionsCommand.self, ActivateCommand.self,
            DeactivateCommand.self, UninstallCommand.self, SettingsCommand.self, ListCommand.self, StatusCommand.self,
            InvokeCommand.self, LogsCommand.self, StorageCommand.self, AuditCommand.self, KeysCommand.self, UpCommand.self, FlowCommand.self,
        ]
    )

    public init() {}

    /// Parses the command line and runs the chosen verb, synchronous or not.
    public static func run() async {
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
