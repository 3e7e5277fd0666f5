"""What OPTIONS answers: the endpoint's name and description; its fields are the OpenAPI schema's business."""

from rest_framework.metadata import SimpleMetadata


class OptionsMetadata(SimpleMetadata):
    # DRF would describe each action from the view's one serializer; ours have one per direction.
    def determine_actions(self, request, view):
        return {}
