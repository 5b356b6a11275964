"""The API's JSON shapes. They are the contract with scripts and the autograder:
add fields if you must, never rename or remove one within /api/v1."""

from ninja import Schema


class LabelProbability(Schema):
    label: str
    probability: float


class ModelInfo(Schema):
    name: str
    backend: str


class Classification(Schema):
    is_bird: bool
    bird_probability: float
    species: list[LabelProbability]
    top_class: LabelProbability
    model: ModelInfo
    elapsed_ms: float
