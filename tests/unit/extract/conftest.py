import pytest


@pytest.fixture(scope="session")
def nlp():
    from syllabus.extract.nlp import load_pipeline

    return load_pipeline()
