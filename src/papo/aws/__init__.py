"""The AWS entry points: the Lambda handler and what it is wired to."""
