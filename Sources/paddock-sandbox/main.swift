import Glibc
import PaddockSandbox

// paddock-sandbox: apply a sandbox policy to this process, then exec the plugin.
do {
    let arguments = try LauncherArguments(Array(CommandLine.arguments.dropFirst()))
    let failure = Launcher.run(arguments)
    Launcher.warn(failure.line)
    exit(failure.step.exitStatus)
} catch {
    Launcher.warn(LaunchFailure(.arguments, error).line)
    exit(LaunchStep.arguments.exitStatus)
}
