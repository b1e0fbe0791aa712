import ArgumentParser
import PaddockCLI

PaddockCommand.main()
