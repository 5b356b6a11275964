"""The course's autograder: grades a student's deployed bird.ai (over HTTP and the AWS
API) into Gradescope's results.json, never blaming the student for the grader's own
failures. `python -m autograder --help`; docs/autograder.md for the instructor."""
