import Glibc
import PaddockFuzz

// A libFuzzer harness. `make fuzz` builds it with -sanitize=fuzzer,address
// and -DFUZZING: then libFuzzer's driver runs and calls
// LLVMFuzzerTestOneInput, and PADDOCK_FUZZ_TARGET names the FuzzTarget.
// Built as `swift build` builds it, it only says so.

#if FUZZING
let target: FuzzTarget = {
    let name = getenv("PADDOCK_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        let message = "paddock-fuzz: PADDOCK_FUZZ_TARGET is one of \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n"
        _ = message.withCString { write(2, $0, strlen($0)) }
        exit(2)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    target.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The program's entry: SwiftPM links a debug executable with `main` set to
/// `<module>_main`, which a module without `@main` leaves to be defined here.
@_cdecl("paddock_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runDriver(&count, &arguments, fuzzOne)
}
#else
@main
enum WithoutLibFuzzer {
    static func main() {
        let message = "paddock-fuzz: built without libFuzzer; run `make fuzz`\n"
        _ = message.withCString { write(2, $0, strlen($0)) }
        exit(2)
    }
}
#endif
