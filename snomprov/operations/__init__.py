"""
What operators do, one code path shared by the command line, the API and
the pages (DESIGN §3): each operation takes the store and the actor
(L{snomprov.audit}) and records an audit event of every change it makes.
Refusals are L{snomprov.operations.errors.Refused} with one clear line.
"""
