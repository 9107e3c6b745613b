"""An SMTP server for Neretva's notification tests, run by aiosmtpd:

    python -m aiosmtpd -n -l 127.0.0.1:PORT -c smtp_sink.Sink DIRECTORY

Each accepted message is written, byte for byte as received, to DIRECTORY as
<nanoseconds>-<recipient>.eml (written under a temporary name, then renamed).
Recipients whose local part is `refuse-permanent` get 550, `refuse-temporary` 451.
"""

import os
import time


class Sink:
    def __init__(self, directory):
        self.directory = directory

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("smtp_sink.Sink takes one argument: the directory for messages")
        return cls(args[0])

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0]
        if local == "refuse-permanent":
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        if local == "refuse-temporary":
            return "451 4.3.0 <%s>: try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        for recipient in envelope.rcpt_tos:
            name = "%d-%s.eml" % (time.time_ns(), recipient)
            temporary = os.path.join(self.directory, "." + name + ".tmp")
            with open(temporary, "wb") as out:
                out.write(data)
            os.rename(temporary, os.path.join(self.directory, name))
        return "250 2.0.0 Message accepted for delivery"
