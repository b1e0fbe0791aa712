public import ArgumentParser

/// The `paddock` command line: plugin authors' and operators' verbs.
public struct PaddockCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "paddock",
        abstract: "Build, check and run sandboxed Paddock plugins.",
        subcommands: [ValidateCommand.self, InitCommand.self]
    )

    public init() {}
}
