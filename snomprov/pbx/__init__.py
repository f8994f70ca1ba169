"""
PBX accounts (DESIGN §8): every line snomprov provisions exists where the
phone registers.

L{snomprov.pbx.account} holds the values (pure); the sinks
(L{snomprov.interfaces.IAccountSink}) write them to a PBX.
"""
