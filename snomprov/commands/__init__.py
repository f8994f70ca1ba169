"""
The subcommands of C{snomprov}, one module each; L{snomprov.cli} imports
the modules it lists, and each registers its command with
L{snomprov.commands.base.command}.  A command module never imports
L{snomprov.cli}.
"""
