"""Prints a SAM template as CloudFormation receives it, as JSON: the AWS::LanguageExtensions
transform expands its Fn::ForEach loops, then the SAM translator (samtranslator) turns the
serverless resources into plain CloudFormation. cfn-lint's own transform pipeline does both, so
the tests check exactly what cfn-lint lints.

usage: python3 translate.py template.yaml
"""

import json
import sys

from cfnlint.decode import decode
from cfnlint.template import Template
from cfnlint.template.transforms.transform import Transform


def main(path):
    tpl, matches = decode(path)
    if matches:
        sys.exit("cannot read %s: %s" % (path, matches))
    cfn = Template(path, tpl, ["us-east-1"])
    matches = Transform().transform(cfn)
    if matches:
        sys.exit("cannot transform %s: %s" % (path, matches))
    json.dump(cfn.template, sys.stdout, indent=1, default=str)


if __name__ == "__main__":
    main(sys.argv[1])
