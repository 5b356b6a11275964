"""The parts several apps share: reading and validating an upload, file storage, the
errors a request can end in and their HTTP answers."""
