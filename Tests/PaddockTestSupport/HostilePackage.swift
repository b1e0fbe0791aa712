public import Foundation

/// Zip archives that attack an installer, written with Debian's python3
/// (`zipfile` writes what a package writer never would): each one carries a
/// valid plugin plus one hostile entry.
public enum HostilePackage: String, CaseIterable, Sendable {
    /// `../../etc/x`.
    case parentPath
    /// `/etc/x`.
    case absolutePath
    /// A symbolic link `passwd -> /etc/passwd`.
    case linkToPasswd
    /// A symbolic link `up -> ../../..`.
    case linkUpward
    /// A character device (mode 020644).
    case device
    /// A FIFO (mode 010644).
    case fifo
    /// 1 GB of zeros that deflate to about a megabyte.
    case zipBomb
    /// Two entries for `main.py`.
    case duplicate
    /// A path through a link: `lib -> .` then `lib/x`.
    case throughLink

    /// Writes the package to `path`, its plugin files being `files` (path → text).
    public func write(to path: String, files: [String: String]) throws {
        let script = """
            import json, stat, sys, zipfile
            out, kind, files = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
            def info(name, mode):
                i = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                i.create_system = 3
                i.external_attr = mode << 16
                i.compress_type = zipfile.ZIP_DEFLATED
                return i
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
                for name, text in sorted(files.items()):
                    z.writestr(info(name, 0o100644), text)
                if kind == "parentPath": z.writestr(info("../../etc/x", 0o100644), "x")
                elif kind == "absolutePath": z.writestr(info("/etc/x", 0o100644), "x")
                elif kind == "linkToPasswd": z.writestr(info("passwd", 0o120777), "/etc/passwd")
                elif kind == "linkUpward": z.writestr(info("up", 0o120777), "../../..")
                elif kind == "device": z.writestr(info("null", 0o020644), "")
                elif kind == "fifo": z.writestr(info("pipe", 0o010644), "")
                elif kind == "duplicate": z.writestr(info("main.py", 0o100644), "import os")
                elif kind == "throughLink":
                    z.writestr(info("lib", 0o120777), ".")
                    z.writestr(info("lib/x", 0o100644), "x")
                elif kind == "zipBomb":
                    with z.open(info("zeros.bin", 0o100644), "w", force_zip64=True) as f:
                        block = bytes(1 << 20)
                        for _ in range(1000): f.write(block)
            """
        let files = String(decoding: try JSONSerialization.data(withJSONObject: files), as: UTF8.self)
        let result = try ProcessRunner.run(URL(fileURLWithPath: "/usr/bin/python3"), ["-c", script, path, rawValue, files])
        guard result.status == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: result.stderr]) }
    }

    /// Rewrites the package at `path` with the entry `name` holding `text`
    /// instead, every other entry (the listing and signature included) kept.
    public static func tamper(_ path: String, entry name: String, text: String) throws {
        let script = """
            import sys, zipfile
            path, name, text = sys.argv[1:4]
            with zipfile.ZipFile(path) as z:
                entries = [(i, z.read(i)) for i in z.infolist()]
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
                for i, data in entries:
                    z.writestr(i, text.encode() if i.filename == name else data)
            """
        let result = try ProcessRunner.run(URL(fileURLWithPath: "/usr/bin/python3"), ["-c", script, path, name, text])
        guard result.status == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: result.stderr]) }
    }
}
