"""The errors that import services raise for input their rules reject."""


class ImportInputError(ValueError):
    """A request that the import rules reject. The message names the fix.

    ``field`` is the ``import_job_create`` argument at fault, when there is one,
    so that a form can show the message beside the field of that name.
    """

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


class DryRunFileError(ImportInputError):
    """A start rejected because the job's dry run stopped on a problem of its file.

    The job's page already shows that problem, so a view need not repeat it.
    """
