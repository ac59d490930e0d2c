"""Inserting new rows of several models in one round trip."""

from django.db import connection
from django.db import models
from django.db.models.sql import InsertQuery


def _insert_sql(instance: models.Model) -> tuple[str, list]:
    """Return the INSERT of ``instance`` with ``RETURNING`` its primary key."""
    meta = instance._meta
    pk_set = instance.pk is not None
    fields = [
        field
        for field in meta.local_concrete_fields
        if not field.generated and (pk_set or field is not meta.auto_field)
    ]
    query = InsertQuery(type(instance))
    query.insert_values(fields, [instance])
    compiler = query.get_compiler(connection=connection)
    compiler.returning_fields = [meta.pk]
    [(sql, params)] = compiler.as_sql()
    return sql, list(params)


def _saved_alone(instance: models.Model) -> bool:
    meta = instance._meta
    return (
        meta.parents
        or meta.order_with_respect_to is not None
        or list(meta.db_returning_fields) != [meta.pk]
    )


def objects_insert(*instances: models.Model) -> None:
    """Insert these new instances, of any models, in one statement.

    Each instance gets its primary key, and its fields set on saving (such as
    ``auto_now_add``) get their values. As with ``bulk_create``, the models'
    ``save`` methods and signals do not run: use it for rows that ``save``
    would only insert. On databases other than PostgreSQL, and for models
    that one INSERT cannot save, each instance is saved in turn.
    """
    if connection.vendor != "postgresql" or any(map(_saved_alone, instances)):
        for instance in instances:
            instance.save(force_insert=True)
        return
    ctes, selected, params = [], [], []
    for number, instance in enumerate(instances):
        sql, instance_params = _insert_sql(instance)
        ctes.append(f"i{number} AS ({sql})")
        selected.append(f"(SELECT * FROM i{number})")
        params.extend(instance_params)
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(ctes)} SELECT {', '.join(selected)}", params)
        pks = cursor.fetchone()
    for instance, pk in zip(instances, pks, strict=True):
        instance.pk = pk
        instance._state.adding = False
        instance._state.db = connection.alias
