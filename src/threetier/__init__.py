"""threetier: nested CloudFormation for a highly available three-tier web app."""

__version__ = "0.1.0"
