import Glibc
import PaddockFuzz

// A libFuzzer harness: `make fuzz` builds it with -sanitize=fuzzer,address
// and -parse-as-library, so libFuzzer's main runs and calls the function
// below; PADDOCK_FUZZ_TARGET names the FuzzTarget. Built without those
// flags (as `swift build` does) it is an empty program.

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
