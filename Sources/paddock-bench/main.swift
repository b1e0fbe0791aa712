import Glibc

// paddock-bench: the measurements behind `make bench`. Each reports ratios
// to a baseline measured in the same run.
//
//   paddock-bench spawn [--rounds N] LABEL=COMMAND...   spawn-to-exit, first row is the baseline
//   paddock-bench rpc [--calls N] [--swift]              RPC round trips, kill-to-serving, spawn-to-ready
//   paddock-bench flood [--calls N]                      echo tool calls while another plugin floods its stderr
//   paddock-bench supervisor [--plugins N]               supervisor memory per idle plugin
//   paddock-bench storage [--operations N] [--value-bytes B]  quota-checked set against raw SQLite writes
//   paddock-bench dify [--calls N] [--plugin DIR] [--tool T]  a Dify plugin through Paddock against a bare stdio driver

let arguments = CommandLine.arguments.dropFirst()
switch arguments.first {
case "spawn": spawnBench(arguments.dropFirst())
case "rpc": await rpcBench(arguments.dropFirst())
case "flood": await floodBench(arguments.dropFirst())
case "supervisor": await supervisorBench(arguments.dropFirst())
case "storage": await storageBench(arguments.dropFirst())
case "dify": await difyBench(arguments.dropFirst())
default:
    print("usage: paddock-bench spawn [--rounds N] LABEL=COMMAND... | rpc [--calls N] [--swift] | flood [--calls N] | supervisor [--plugins N] | storage [--operations N] [--value-bytes B] | dify [--calls N] [--plugin DIR] [--tool T]")
    exit(2)
}
