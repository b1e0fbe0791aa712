import Glibc

// paddock-bench: the measurements behind `make bench`. Each reports ratios
// to a baseline measured in the same run.
//
//   paddock-bench spawn [--rounds N] LABEL=COMMAND...   spawn-to-exit, first row is the baseline
//   paddock-bench rpc [--calls N]                        RPC round trips and spawn-to-ready

let arguments = CommandLine.arguments.dropFirst()
switch arguments.first {
case "spawn": spawnBench(arguments.dropFirst())
case "rpc": await rpcBench(arguments.dropFirst())
default:
    print("usage: paddock-bench spawn [--rounds N] LABEL=COMMAND... | paddock-bench rpc [--calls N]")
    exit(2)
}
