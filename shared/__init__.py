"""The parts several apps share: reading and validating an upload, file storage (S3 and its
bucket policy), the errors a request can end in and their HTTP answers."""
