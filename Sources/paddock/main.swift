import PaddockCLI

await PaddockCommand.run()
